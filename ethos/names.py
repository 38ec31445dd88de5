"""People's names in transcript text, found so that a report can leave them out.

A report is read by people who were not at the interview: it must not name the interviewee, the
colleagues or the children they talk about (« on a eu Dylan, un grand de quinze ans »), nor, since a
place and a job are enough to recognise someone, the places. What counts as a name is what the model
never learns from (:func:`ethos.features.kept_tokens`): a word the tagger calls a proper noun, or a
capitalised word inside a sentence, acronyms (ASE, CPOM) and titles excepted, plus the words of the
speakers' labels and the word after a title (« Mme Castel », « Monsieur Roux »). A word found once
is masked wherever it appears in that transcript with the same capital, so « Pierre » is masked and
« la pierre » is not. This errs on the side of masking: institutions (« le Conseil départemental »)
lose their capitalised word too.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from .cleaning import clean
from .features import TITLES, is_acronym, is_number_word
from .nlp import Token, session_lemmas
from .speakers import INTERVIEWER_NAMES, fold

#: What a masked name shows in a report.
MASK = "[nom]"
_SENTENCE_END = {".", "!", "?", "…", ":", "«", "»", '"', "-", "—", "–"}
_SPOKEN_TITLES = "M|MM|Mme|Mmes|Mlle|Mlles|Dr|Pr|Me|Monsieur|Messieurs|Madame|Mesdames|Mademoiselle|Docteur|Maître|Professeur"
#: A title, then the name it introduces (one or two capitalised words: « Mme Le Goff », « M. Roux »).
_TITLED = re.compile(rf"\b(?:{_SPOKEN_TITLES})\.?[ \u00a0]+((?:[A-ZÀ-Ý][\w'’-]*)(?:[ \u00a0]+[A-ZÀ-Ý][\w'’-]+)?)")
_CAPITALISED = re.compile(r"^[A-ZÀ-Ý][\w'’-]+$")
#: Words of spoken French that start sentences and that a tagger takes for proper nouns there.
_SPOKEN_WORDS = frozenset("bon ben bah beh bé ouais ouai mouais voilà hein enfin bref allez tiens oh ah eh euh heu hum hm mh mm pff "
                          "dis dites écoute écoutez attends attendez voyez remarquez disons".split())
#: Words of speaker labels that name a role, not a person.
_ROLE_WORDS = INTERVIEWER_NAMES | {"speaker", "locuteur", "locutrice", "interviewe", "interviewee", "intervenant", "intervenante",
                                    "enquete", "enquetee", "participant", "participante", "personne", "reponse"}


#: Particles of names (« Le Goff », « De Smet »): they start sentences too, so they stay visible.
_PARTICLES = frozenset({"le", "la", "les", "l'", "de", "du", "des", "d'", "van", "von", "der", "den", "di", "da", "del", "dos", "el", "ben", "y"})
#: Titles, abbreviated or not, stay: « Madame [nom] » still says who is spoken of, not who she is.
_NOT_NAMES = TITLES | _PARTICLES | {t.lower() for t in _SPOKEN_TITLES.split("|")}


def _is_name_like(text: str) -> bool:
    return (bool(_CAPITALISED.match(text)) and not is_acronym(text) and text.lower().replace("’", "'") not in _NOT_NAMES
            and not is_number_word(text))


def name_words(passages: Iterable[Sequence[Token]]) -> set[str]:
    """The words of one transcript's tokens (a list of tokens per passage or turn) that name someone
    or somewhere.

    A capitalised word inside a sentence is one. At the start of a sentence, where everything has a
    capital, a word is one when the tagger calls it a proper noun, unless it is a function word, a
    word of spoken French the tagger often takes for a name (« Bon, ça tourne », « Ben oui »), or a
    word that appears in lower case elsewhere in the transcript. Particles (the « Le » of « Mme Le
    Goff ») and function words are never names: they start sentences too.
    """
    inside, starting, lower = set(), set(), set()
    for tokens in passages:
        sentence_start = True
        for token in tokens:
            text = token.text
            if text[:1].islower():
                lower.add(text.replace("’", "'"))
            elif _is_name_like(text) and not token.is_stop:
                if not sentence_start:
                    inside.add(text)
                elif token.pos == "PROPN":
                    starting.add(text)
            sentence_start = text in _SENTENCE_END
    return inside | {word for word in starting if word.lower().replace("’", "'") not in lower | _SPOKEN_WORDS}


def label_words(labels: Iterable[str]) -> set[str]:
    """The name words of speaker labels (« Mme Castel » gives « Castel », « Claire (ENQ) » « Claire »)."""
    found = set()
    for label in labels:
        for word in re.split(r"[\s()\[\]_.:,]+", label or ""):
            if len(word) > 1 and _is_name_like(word) and fold(word) not in _ROLE_WORDS:
                found.add(word)
    return found


def titled_names(text: str) -> set[str]:
    """The words that follow a title in ``text``, where a name must stand."""
    return {word for match in _TITLED.finditer(text) for word in re.split(r"[ \u00a0]+", match.group(1)) if _is_name_like(word)}


def name_pattern(words: Iterable[str]) -> re.Pattern | None:
    """A pattern matching any of ``words`` as a whole word, with the same capitals (``None`` for none);
    an apostrophe in a word matches either apostrophe, and a hyphen ends a word, since the tagger cuts
    « Anne-Sophie » in two."""
    words = sorted({w.replace("’", "'") for w in words if w}, key=lambda w: (-len(w), w))
    if not words:
        return None
    alternatives = "|".join(re.escape(w).replace("'", "['’]") for w in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def name_spans(text: str, pattern: re.Pattern | None) -> list[tuple[int, int]]:
    """The spans of ``text`` that ``pattern`` (see :func:`name_pattern`) says to mask, in order."""
    return [] if pattern is None else [match.span() for match in pattern.finditer(text)]


def transcript_name_pattern(document, passages: Sequence, passage_tokens: Sequence[Sequence[Token]]) -> re.Pattern | None:
    """The names of one transcript (a :class:`ethos.readers.Document`), from its passages' tokens, its
    speakers' labels, the words after titles, and the tokens of the turns no passage covers (the
    interviewer's, the short ones), lemmatised in the current lemma session."""
    words = label_words(turn.speaker for turn in document.turns)
    words |= titled_names(document.raw)
    covered = [(p.start, p.end) for p in passages]
    others = [clean(document.raw[t.start:t.end]) for t in document.turns
              if not any(start < t.end and t.start < end for start, end in covered)]
    words |= name_words([*passage_tokens, *session_lemmas([text for text in others if text.strip()])])
    return name_pattern(words)


def report_name_patterns(documents: Sequence[dict], passages: Sequence, tokens: dict, sources: dict) -> dict[str, re.Pattern | None]:
    """The pattern of the names to mask in each scored document (``{"doc_id", ...}``) of a report:
    from its transcript when ``sources`` has it (doc_id -> :class:`ethos.readers.Document`), else
    from its passages alone (a passage table). ``tokens`` maps (doc_id, passage_id) to a passage's
    tokens; the turns no passage covers are lemmatised in the current lemma session."""
    by_document: dict[str, list] = {}
    for passage in passages:
        by_document.setdefault(passage.doc_id, []).append(passage)
    patterns = {}
    for document in documents:
        doc_id = document["doc_id"]
        own = by_document.get(doc_id, [])
        own_tokens = [tokens[(p.doc_id, p.passage_id)] for p in own]
        if doc_id in sources:
            patterns[doc_id] = transcript_name_pattern(sources[doc_id], own, own_tokens)
        else:
            patterns[doc_id] = name_pattern(name_words(own_tokens).union(*(titled_names(p.text) for p in own)))
    return patterns
