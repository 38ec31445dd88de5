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
from .features import TITLES, is_number_word
from .nlp import Token, session_lemmas
from .speakers import EVENT_WORDS, INTERVIEWER_NAMES, is_role_label
from .text import SENTENCE_END_TOKENS, fold

#: What a masked name shows in a report.
MASK = "[nom]"
_SPOKEN_TITLES = "M|MM|Mme|Mmes|Mlle|Mlles|Dr|Pr|Me|Monsieur|Messieurs|Madame|Mesdames|Mademoiselle|Docteur|Maître|Professeur"
#: A title (in any case), then up to two words: the name it introduces, particles aside.
_TITLED = re.compile(rf"(?<!\w)(?i:{_SPOKEN_TITLES})\.?[ \u00a0]+([\w'’-]+)(?:[ \u00a0]+([\w'’-]+))?")
_WORD = re.compile(r"^[\w'’-]+$")
#: Words of spoken French that start sentences and that a tagger takes for proper nouns there.
_SPOKEN_WORDS = frozenset(
    "bon ben bah beh bé ouais ouai mouais voilà hein enfin bref allez tiens oh ah eh euh heu hum hm mh mm pff dis dites écoute "
    "écoutez attends attendez voyez remarquez disons bonjour bonsoir salut merci ok okay super génial pardon bravo hélas dommage "
    "ouf parfait exactement absolument évidemment effectivement justement franchement vraiment alors ensuite courage zut mince "
    "bof chut allô bien oui non si d'accord".split()
)
#: Words of speaker labels that name a role, not a person.
_ROLE_WORDS = INTERVIEWER_NAMES | {"speaker", "locuteur", "locutrice", "interviewe", "interviewee", "intervenant", "intervenante",
                                    "enquete", "enquetee", "participant", "participante", "personne", "reponse"}


#: What the tagger calls a name it does not recognise as one (« Karima m'a dit » : a noun); verbs and
#: adverbs that open a sentence (« Excusez », « Concrètement ») are words.
_NAME_POS = frozenset({"NOUN", "PROPN", "ADJ", "X"})


#: Particles of names (« Le Goff », « De Smet »): they start sentences too, so they stay visible.
_PARTICLES = frozenset({"le", "la", "les", "l'", "de", "du", "des", "d'", "van", "von", "der", "den", "di", "da", "del", "dos", "el", "ben", "y"})
#: Titles, abbreviated or not, stay: « Madame [nom] » still says who is spoken of, not who she is.
_TITLE_WORDS = frozenset(t.lower() for t in _SPOKEN_TITLES.split("|")) | {t.rstrip(".") for t in TITLES}
_NOT_NAMES = TITLES | _PARTICLES | _TITLE_WORDS


#: Titles spelt out, which speech writes in lower case; abbreviated ones count with their capital only
#: (« me » is a pronoun, « Me » a lawyer).
_SPELT_TITLES = frozenset({"monsieur", "messieurs", "madame", "mesdames", "mademoiselle", "docteur", "maître", "professeur"})
_ABBREVIATED_TITLES = frozenset(t for t in _SPOKEN_TITLES.split("|") if t.lower() not in _SPELT_TITLES) | {"M.", "MM.", "Mme.", "Dr.", "Pr.", "Me."}


def _is_title(text: str) -> bool:
    return text.lower() in _SPELT_TITLES or text in _ABBREVIATED_TITLES


def _wordlike(text: str) -> bool:
    return len(text) > 1 and bool(_WORD.match(text)) and not any(c.isdigit() for c in text)


def _is_name_like(text: str) -> bool:
    """A capitalised word (any script's capitals: « Œuvray », « Łukasz ») that is not an acronym,
    a title, a particle or a number."""
    return (_wordlike(text) and text[0].isupper() and not text.isupper() and text.lower().replace("’", "'") not in _NOT_NAMES
            and not is_number_word(text))


def _is_capitals(text: str) -> bool:
    """A word in capitals: an acronym (« ASE ») or a surname written the French way (« BERTRAND »)."""
    return _wordlike(text) and text.isupper() and text.lower() not in _NOT_NAMES


def name_words(passages: Iterable[Sequence[Token]], known_words: set[str] | None = None) -> set[str]:
    """The words of one transcript's tokens (a list of tokens per passage or turn) that name someone
    or somewhere.

    A capitalised word inside a sentence is one. At the start of a sentence, where everything has a
    capital, a word is one when the tagger calls it a proper noun, unless it is a function word, a
    word of spoken French the tagger often takes for a name (« Bon, ça tourne », « Ben oui »,
    « Bonjour »), or a word that appears in lower case elsewhere in the transcript as a common word.
    A word in lower case is one when the tagger calls it a proper noun wherever it stands, and never
    just after a determiner (automatic transcripts write « j'ai vu sylvie »; « la clé » is no name). A word in capitals is an acronym and stays (« l'ASE »),
    unless it stands beside a name (« Nathalie BERTRAND », « DUPONT Gérard »). Particles (the « Le »
    of « Mme Le Goff ») and function words are never names: they start sentences too. A name is
    masked in both cases unless the transcript also has it as a common word (« Pierre », « la pierre »).

    ``known_words`` are the common words a model learnt (lemmas its training corpus wrote in lower
    case, :meth:`ethos.model.EthosModel.known_words`): given them, a capitalised word that starts a
    sentence is also a name when neither the transcript writes it in lower case nor the model knows
    it as a word, as the model itself never learns a word only ever written with a capital
    (« Karima m'a appelé » names Karima even when the tagger calls her a noun; a verb or an adverb,
    « Excusez », is not taken for a name).
    """
    inside, starting, capitals, after_title = set(), set(), [], set()
    lower: dict[str, set[str]] = {}  # words seen in lower case, and how the tagger saw them
    for tokens in passages:
        sentence_start = True
        previous = None
        for i, token in enumerate(tokens):
            text = token.text
            if previous is not None and _is_title(previous.text) and not token.is_stop and _wordlike(text) \
                    and not is_number_word(text) and text.lower() not in _NOT_NAMES:
                after_title.add(text)  # « monsieur roux », as automatic transcripts write it
            if text[:1].islower():
                # after a determiner, a « proper noun » in lower case is the tagger's slip (« la clé »)
                proper = token.pos == "PROPN" and not token.is_stop and not (previous is not None and previous.pos == "DET")
                lower.setdefault(text.replace("’", "'"), set()).add("PROPN" if proper else "word")
            elif _is_name_like(text) and not token.is_stop:
                if not sentence_start:
                    inside.add(text)
                elif token.pos == "PROPN":
                    starting.add(text)
                elif known_words is not None and token.pos in _NAME_POS and text.lower() not in known_words and token.lemma.lower() not in known_words:
                    starting.add(text)  # kept only if the transcript never writes it in lower case (below)
            elif _is_capitals(text):
                capitals.append((tokens[i - 1].text if i else "", text, tokens[i + 1].text if i + 1 < len(tokens) else ""))
            # a hyphen joined to the word before it (« Châtillon-Montrouge ») ends no sentence
            attached = previous is not None and text in "-–" and previous.idx + len(previous.text) == token.idx
            sentence_start = text in SENTENCE_END_TOKENS and not attached
            previous = token
    common = {word for word, seen in lower.items() if "word" in seen}
    # a lower-case word the tagger always calls a proper noun (« j'ai vu sylvie », « chez martin »)
    lowered = {word for word, seen in lower.items() if seen == {"PROPN"} and _wordlike(word) and word not in _SPOKEN_WORDS | _NOT_NAMES
               and not is_number_word(word)}
    names = {word for word in inside if word.lower() not in _SPOKEN_WORDS}
    names |= {word for word in starting if word.lower().replace("’", "'") not in common | _SPOKEN_WORDS}
    names |= {word for before, word, after in capitals if before in names or after in names}
    names |= after_title | lowered
    # a name is masked in lower case too when the transcript never has that word as a common one
    return names | {w.lower() for w in names if w.lower() not in common} | {w[0].upper() + w[1:] for w in names if w.islower()}


def label_words(labels: Iterable[str]) -> set[str]:
    """The name words of speaker labels (« Mme Castel » gives « Castel », « Claire (ENQ) » « Claire »,
    « KH » « KH »), whatever their case."""
    found = set()
    for label in labels:
        if label and is_role_label(label):  # « Cheffe de service » names a job, not a person
            continue
        for word in re.split(r"[\s()\[\]_.:,]+", label or ""):
            if _wordlike(word) and fold(word) not in _ROLE_WORDS and word.lower() not in _NOT_NAMES and not is_number_word(word):
                found.add(word)
    return found


def titled_names(text: str) -> set[str]:
    """The capitalised words that follow a title in ``text``, where a name must stand: « Mme Castel »,
    « madame MARCHAND », « Mme Le Goff », « monsieur Le Goff » (a lower-case name after a title, « monsieur
    roux », is found by :func:`name_words`, whose tagger knows « monsieur est » from « monsieur roux »)."""
    found = set()
    for match in _TITLED.finditer(text):
        first, second = match.group(1), match.group(2)
        if first.lower().replace("’", "'") in _PARTICLES:
            if second and (_is_name_like(second) or _is_capitals(second)):
                found.add(second)
            continue
        if _is_name_like(first) or _is_capitals(first):
            found.add(first)
            if second and (_is_name_like(second) or _is_capitals(second)):
                found.add(second)
    return found


_MARK = re.compile(r"[\[(]([^\[\]()\n]{1,80})[\])]")


def marked_names(text: str) -> set[str]:
    """Capitalised words inside the transcriber's marks of two words or more, which cleaning removes
    before the tagger sees them (« [rire de Julie] », « [Katie, Youcel] »), events aside (« [Rires nerveux] »)."""
    found = set()
    for match in _MARK.finditer(text):
        words = [word.strip(",.;:!?") for word in match.group(1).split()]
        if len(words) > 1:
            found |= {word for word in words if _is_name_like(word) and fold(word) not in EVENT_WORDS}
    return found


def name_pattern(words: Iterable[str], *, ignore_case: bool = False) -> re.Pattern | None:
    """A pattern matching any of ``words`` as a whole word, with the same capitals unless ``ignore_case``
    (``None`` for none); an apostrophe in a word matches either apostrophe, and a hyphen ends a word,
    since the tagger cuts « Anne-Sophie » in two."""
    words = sorted({w.replace("’", "'") for w in words if w}, key=lambda w: (-len(w), w))
    if not words:
        return None
    alternatives = "|".join(re.escape(w).replace("'", "['’]") for w in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE if ignore_case else 0)


def name_spans(text: str, pattern: re.Pattern | None) -> list[tuple[int, int]]:
    """The spans of ``text`` that ``pattern`` (see :func:`name_pattern`) says to mask, in order."""
    return [] if pattern is None else [match.span() for match in pattern.finditer(text)]


def transcript_name_pattern(document, passages: Sequence, passage_tokens: Sequence[Sequence[Token]],
                            known_words: set[str] | None = None) -> re.Pattern | None:
    """The names of one transcript (a :class:`ethos.readers.Document`), from its passages' tokens, its
    speakers' labels, the words after titles, and the tokens of the turns no passage covers (the
    interviewer's, the short ones), lemmatised in the current lemma session."""
    words = label_words(turn.speaker for turn in document.turns)
    words |= titled_names(document.raw) | marked_names(document.raw)
    covered = [(p.start, p.end) for p in passages]
    others = [clean(document.raw[t.start:t.end]) for t in document.turns
              if not any(start < t.end and t.start < end for start, end in covered)]
    words |= name_words([*passage_tokens, *session_lemmas([text for text in others if text.strip()])], known_words)
    return name_pattern(words)


def report_name_patterns(documents: Sequence[dict], passages: Sequence, tokens: dict, sources: dict,
                         known_words: set[str] | None = None) -> dict[str, re.Pattern | None]:
    """The pattern of the names to mask in each scored document (``{"doc_id", ...}``) of a report:
    from its transcript when ``sources`` has it (doc_id -> :class:`ethos.readers.Document`), else
    from its passages alone (a passage table). ``tokens`` maps (doc_id, passage_id) to a passage's
    tokens; the turns no passage covers are lemmatised in the current lemma session. ``known_words``: see
    :func:`name_words`."""
    by_document: dict[str, list] = {}
    for passage in passages:
        by_document.setdefault(passage.doc_id, []).append(passage)
    patterns = {}
    for document in documents:
        doc_id = document["doc_id"]
        own = by_document.get(doc_id, [])
        own_tokens = [tokens[(p.doc_id, p.passage_id)] for p in own]
        if doc_id in sources:
            patterns[doc_id] = transcript_name_pattern(sources[doc_id], own, own_tokens, known_words)
        else:
            patterns[doc_id] = name_pattern(name_words(own_tokens, known_words).union(*(titled_names(p.text) for p in own)))
    return patterns
