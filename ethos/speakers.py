"""Finding who speaks: speaker turns from line-initial labels, and the interviewer among speakers."""

from __future__ import annotations

import functools
import re
from collections import Counter
from typing import Iterable, Sequence

from .document import Turn
from .text import fold


_TIME = r"(?:[\[(]?\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?[\])]?\s*)?"
_NAME_TOKEN = r"[\w#.'’\-]+"
_SPACE = r"[ \t\u00a0\u202f]"  # Word types a no-break space before a colon, as French typography wants
_LABEL = re.compile(
    r"^[ \t]*" + _TIME
    + r"(?:\[(?P<bracket>[^\]\n]{1,40})\]" + _SPACE + r"*(?::(?=\s|$))?" + _SPACE + r"*"
    + r"|(?P<name>" + _NAME_TOKEN + r"(?:[ _\u00a0]" + _NAME_TOKEN + r"){0,4}(?:" + _SPACE + r"*\([^()\n]{1,12}\))?)"
    + _SPACE + r"*:(?=\s|$)" + _SPACE + r"*)"
)
_PARTICLES = {"de", "du", "des", "la", "le", "d'", "d’", "von", "van", "di", "da", "dos", "el", "ben", "enq", "enq.", "int"}
_TITLE = re.compile(r"^(?:M\.|Mme|Mlle|Mr|Mrs|Dr|Pr|Me)\s+[A-ZÀ-Ý]")
#: Job titles that label speakers in lower case after their first word (« Cheffe de service : »).
_ROLES = {
    "directeur", "directrice", "chef", "cheffe", "cadre", "responsable", "coordinateur", "coordinatrice", "coordonnateur",
    "coordonnatrice", "educateur", "educatrice", "infirmier", "infirmiere", "president", "presidente", "adjoint", "adjointe",
    "assistant", "assistante", "psychologue", "medecin", "secretaire", "delegue", "deleguee", "intervenant", "intervenante",
    "participant", "participante", "interviewe", "interviewee", "enquete", "enquetee", "agent", "agente", "conseiller", "conseillere",
}
_PLACEHOLDER = re.compile(r"(?i)^(speaker|spk|locuteur|loc|l)\s*#?\d+$")
#: Words of transcribers' event marks (« [rires] », « [toux] »), never speakers.
EVENT_WORDS = {
    "rire", "rires", "silence", "pause", "inaudible", "tx", "pi", "pif", "toux", "bip", "bruit", "souffle",
    "soupir", "rire-", "-rire", "mm", "mm mm", "oui", "ouais", "non", "musique", "coupure", "applaudissements",
}
#: Pseudo-speakers some transcription tools write for notes and noises: never speech to analyse.
PSEUDO_SPEAKERS = {"comments", "comment", "commentaire", "commentaires", "note", "notes", "inconnu", "tous", "all", "unknown", "bruit", "noise"}

#: How interviewers are tagged in speaker labels (folded: no accents, lower case).
INTERVIEWER_NAMES = {
    "q", "e", "enq", "enqueteur", "enqueteuse", "enquetrice", "int", "interviewer", "intervieweur",
    "intervieweuse", "intervieweuse", "chercheur", "chercheuse", "investigator", "interrogateur",
}
_INTERVIEWER_SUFFIX = re.compile(r"(?:\(\s*(?:enq|int|interviewer|enqueteur|enquetrice)\.?\s*\)|\benq\.?)$")
_TAG_QUESTION = re.compile(
    r"(?:vous\s+voyez|tu\s+vois|voyez|vous\s+comprenez|tu\s+comprends|vous\s+savez|tu\s+sais|n['’]est-ce\s+pas|"
    r"non|hein|d['’]accord|quoi|ok|okay|si\s+vous\s+voulez|c['’]est\s+ça|pas\s+vrai|vous\s+croyez)\s*\?",
    re.IGNORECASE,
)
_QUESTION_START = re.compile(
    r"^\W*(?:et\s+)?(?:est-ce|qu'est-ce|qu est-ce|pourquoi|comment|combien|quel|quelle|quels|quelles|"
    r"quand|o[uù]\b|vous\s+(?:pouvez|pourriez|diriez|avez|êtes|etes|faites)|tu\s+(?:peux|as|es|fais)|"
    r"alors\s+(?:vous|comment|est-ce|pourquoi)|et\s+(?:vous|toi|aujourd'hui|maintenant|ça|ca)\b)",
    re.IGNORECASE,
)


def is_role_label(label: str) -> bool:
    """A label naming a job (« Directrice adjointe », « Cheffe de service »), lower case after its first word."""
    first = label.split(maxsplit=1)[0] if label.split() else ""
    return first[:1].isupper() and fold(first) in _ROLES and len(label.split()) <= 4


@functools.lru_cache(maxsize=4096)  # a transcript repeats its few labels on thousands of lines
def _plausible_label(label: str) -> bool:
    if _PLACEHOLDER.match(label) or is_interviewer_tag(label):
        return True
    tokens = re.sub(r"\([^)]*\)", "", label).replace("_", " ").split()
    if not tokens or not (tokens[0][0].isupper() or tokens[0][0].isdigit()):
        return False
    if is_role_label(label):
        return True
    return all(t[0].isupper() or t[0].isdigit() or t.lower() in _PARTICLES for t in tokens)


def _candidates(raw: str, known: frozenset[str] = frozenset()) -> list[tuple[int, int, int, str]]:
    """Every line that opens with something shaped like a label, or with a ``known`` label (folded):
    (line start, line end, body start, label)."""
    found = []
    position = 0
    for line in raw.split("\n"):
        end = position + len(line)
        match = _LABEL.match(line)
        if match:
            label = (match.group("bracket") or match.group("name") or "").strip()
            if label and (fold(label) in known or fold(label) not in EVENT_WORDS and _plausible_label(label)):
                found.append((position, end, position + match.end(), label))
        position = end + 1
    return found


def find_turns(raw: str, known: Sequence[str] = ()) -> tuple[Turn, ...]:
    """Split a transcript's text into speaker turns.

    A label counts as a speaker when it opens at least two lines, is an interviewer tag, starts
    with a title (« Mme Castel »), or is one of the ``known`` labels (the user's --speaker and
    --interviewer). Lines before the first turn are a header, not speech; unlabelled lines continue
    the previous turn. A text without labels is one speaker's speech, a turn per paragraph.
    """

    known_folded = frozenset(fold(label) for label in known)
    candidates = _candidates(raw, known_folded)
    counts = Counter(label for *_, label in candidates)
    speakers = {label for label, n in counts.items()
                if n >= 2 or is_interviewer_tag(label) or _TITLE.match(label) or fold(label) in known_folded}
    starts = [(line_start, body, label) for line_start, _, body, label in candidates if label in speakers]
    if not starts:
        return tuple(_paragraph_turns(raw))
    turns = []
    for i, (line_start, body, label) in enumerate(starts):
        stop = starts[i + 1][0] if i + 1 < len(starts) else len(raw)
        start, end = trim_span(raw, body, stop)
        if end > start:
            turns.append(Turn(label, start, end))
    return tuple(turns)


def _paragraph_turns(raw: str) -> Iterable[Turn]:

    for match in re.finditer(r"\S(?:.|\n(?!\s*\n))*", raw):
        yield Turn(None, match.start(), match.end())


def trim_span(raw: str, start: int, end: int) -> tuple[int, int]:
    """The span without the white space at either end."""
    while start < end and raw[start].isspace():
        start += 1
    while end > start and raw[end - 1].isspace():
        end -= 1
    return start, end


def is_interviewer_tag(label: str) -> bool:
    """True for labels that name the interviewer's role: ``Enquêteur``, ``Q``, ``E``, ``Claire (ENQ)``,
    and numbered ones when two interviewers share the interview (``Enquêteur 2``, ``ENQ1``)."""
    folded = fold(label)
    numbered = re.sub(r"[\s_-]*\d{1,2}$", "", folded)
    return folded in INTERVIEWER_NAMES or numbered in INTERVIEWER_NAMES - {"e", "q"} or bool(_INTERVIEWER_SUFFIX.search(folded))


def is_question(text: str) -> bool:
    """Does a turn ask a question? A question mark, or an interrogative opening (for unpunctuated
    transcripts). Tag questions (« c'est compliqué, vous voyez ? », « non ? ») ask nothing: they are
    how interviewees talk."""
    return "?" in _TAG_QUESTION.sub("", text) or bool(_QUESTION_START.match(text))


def find_interviewers(turns: Sequence[Turn], raw: str) -> tuple[list[str], str]:
    """The interviewer labels of a transcript, and how they were found.

    Interviewer tags win; otherwise the speaker who most often asks questions is the interviewer
    (ties go to the one who speaks less). A one-speaker transcript has no interviewer.
    """
    labels = [t.speaker for t in turns if t.speaker and fold(t.speaker) not in PSEUDO_SPEAKERS]
    distinct = list(dict.fromkeys(labels))
    tagged = [label for label in distinct if is_interviewer_tag(label)]
    if tagged:
        return tagged, "tag"
    if len(distinct) < 2:
        return [], "single speaker"
    asked: Counter = Counter()
    spoken: Counter = Counter()
    total: Counter = Counter()
    for turn in turns:
        if turn.speaker in distinct:
            text = raw[turn.start:turn.end]
            total[turn.speaker] += 1
            asked[turn.speaker] += is_question(text)
            spoken[turn.speaker] += len(text.split())
    busiest = max(total.values())
    distinct = [s for s in distinct if total[s] >= min(2, busiest) and total[s] >= 0.1 * busiest]
    best = max(distinct, key=lambda s: (asked[s] / total[s], -spoken[s]))
    return [best], "questions"
