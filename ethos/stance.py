"""Stance marks: features that say what a speaker does with words, not only which words they use.

A passage about indicators can be either ethos: what decides is whether the speaker takes the
indicators up or holds them at a distance. Lemma n-grams cannot see that, so this module adds named
features, each a count over a passage's tokens, from simple, documented rules (no parser):

- **scopes**: a content word under negation (``NÉG: rentable``), inside reported discourse, after a
  verb of saying whose subject is someone else or inside quotation marks (``discours rapporté:
  efficience``), or in a sentence framed as a critique (« on nous impose », « au détriment de »,
  « soi-disant »: ``critique: indicateur``);
- **lexicons** derived from the codebook's indicators: management, the trade and its people,
  values and meaning, negative and positive evaluation, and how they meet in a sentence
  (``gestion critiquée``, ``gestion valorisée``, ``après « mais »: métier``...);
- **enunciation**: engaged first person, impersonal « il faut », institutional « nous », « on nous »
  (others decide), and passages with no word of the sector at all (digressions).

Every feature is a named column of a linear model, so explanations stay exact: a passage's score is
the intercept plus the sum of its features' contributions.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from typing import Iterable, NamedTuple, Sequence

import numpy as np
from scipy import sparse

from .nlp import Token, derived
from .text import CONTENT_POS, is_content_word, pseudo_sentence_starts

_SENTENCE_END = frozenset({".", "!", "?", "…", ";"})
_CLAUSE_END = _SENTENCE_END | {",", ":", "—", "–", "(", ")"}
_QUOTES_OPEN, _QUOTES_CLOSE = frozenset({"«", "“"}), frozenset({"»", "”"})
_QUOTES = _QUOTES_OPEN | _QUOTES_CLOSE

# --- lexicons (lemmas, lower-case; acronyms as written) ---------------------------------------------

#: The vocabulary of management and of the reforms (codebook: manager indicators, and the objects of critique).
MANAGEMENT = frozenset("""
indicateur tableau pilotage piloter pilote performance performant efficience efficient efficacité reporting
procédure process processus protocole qualité certification évaluation évaluer audit taux occupation activité
mutualiser mutualisation mutualisé taille concurrence concurrent marché offre appel projet optimiser optimisation
rationaliser rationalisation outil logiciel chiffre objectif résultat budget budgétaire coût tarif tarification
rentable rentabilité client prestation prestataire gestion gestionnaire manager management managérial stratégie
stratégique développement développer croissance positionnement positionner restructuration restructurer fusion
regroupement organisation organiser structurer structuration standardiser standardisation norme normer traçabilité
tracer contrôle contrôler ratio file opérateur levier contractualisation contrat dispositif reporting excel
financement financeur équilibre déficit excédent productivité rendement cotation codage grille
CPOM EPRD ERRD SERAFIN GMP PATHOS HAS ARS KPI GPEC DUI RGPD
""".split())
#: The trade and its people: the matter of the work (codebook: artisan indicators).
TRADE = frozenset("""
terrain équipe éducateur éducatrice éduc gamin gosse jeune enfant résident famille parent personne usager
accompagner accompagnement écoute écouter lien relation confiance quotidien groupe nuit veille soin soigner
accueillir accueil présence présent humain humainement métier collègue travailleur aide-soignant infirmier
maman papa mère père bénévole visite domicile histoire vécu clinique clinicien
""".split())
#: Values, meaning, commitment (codebook: artisan indicators).
VALUES = frozenset("""
valeur sens vocation engagement engager militant militantisme cause conviction éthique dignité solidarité
humanisme humaniste fidélité passion croire idéal
""".split())
#: Words that judge negatively (what real artisan critique is made of).
NEGATIVE = frozenset("""
absurde aberrant aberration perte perdre dommage malheureusement épuiser épuisement fatiguer fatigue colère
triste tristesse inhumain violent violence mépris mépriser déconnecté technocrate technocratique paperasse
case cocher remplir écran regret regretter honte scandale scandaleux ubuesque kafkaïen délire usine déshumaniser
déshumanisation broyer étouffer asphyxier saturer écœurer dégoûter impuissance impuissant souffrance souffrir
ridicule grotesque caricature caricatural pervers dérive dériver marchandisation abîmer casser sacrifier
""".split())
#: Words that judge positively, the convinced register of the cadre-manager.
POSITIVE = frozenset("""
efficace pertinent performant rigoureux rigueur levier opportunité fier fierté moderne moderniser professionnaliser
professionnalisation solide pérenne pérennité pérenniser réussir réussite gagner atout indispensable
incontournable inéluctable inévitable nécessaire nécessité logique rationnel cohérent cohérence lisible
lisibilité attractif attractivité dynamique ambitieux ambition agile fluide optimal
""".split())
#: Institutions whose words a speaker reports.
INSTITUTIONS = frozenset("""
siège direction ARS département financeur ministère ministre tutelle conseil consultant cabinet agence état
autorité inspecteur inspection juge HAS CNSA préfecture administrateur président gouvernement région caisse
CPAM CAF DG directeur directrice DRH DAF OFII CD
""".split())
_SAYING = frozenset("""
dire expliquer demander exiger répéter affirmer annoncer prétendre réclamer rappeler écrire marteler seriner
préconiser recommander imposer vouloir attendre souhaiter parler
""".split())
_OTHERS = frozenset({"il", "ils", "elle", "elles"})
#: Prepositions that report an institution's view (« selon l'ARS », « d'après le siège »).
_REPORTING = frozenset({"selon", "après"})
#: Words that frame a sentence as a critique of what is done to the work.
_CRITIQUE_LEMMAS = frozenset("""
imposer imposé détriment obliger contraindre forcer subir dicter soi-disant prétendu prétendument prétexte
guillemet déconnecté hors-sol paperasse cocher usine
""".split())
_CRITIQUE_PHRASES = (
    ("au", "lieu"), ("à", "le", "place"), ("à", "la", "place"), ("perte", "de", "sens"), ("comme", "il", "dire"),
    ("comme", "on", "dire"), ("comme", "il", "appeler"), ("ce", "que", "il", "appeler"), ("rien", "à", "voir"),
    ("on", "nous", "demander"), ("on", "nous", "imposer"), ("on", "nous", "dire"), ("passer", "notre", "temps"),
    ("passer", "son", "temps"), ("au", "nom", "de"), ("faire", "du", "chiffre"), ("faire", "de", "le", "chiffre"),
)
_NEGATION_TEXTS = frozenset({"ne", "n'", "n’", "pas", "jamais", "rien", "aucun", "aucune", "guère", "nullement"})
_FIRST_PERSON = frozenset({"je", "j'", "j’", "moi", "me", "m'", "m’"})
_WE = frozenset({"nous", "notre", "nos"})


_ACRONYM = re.compile(r"[A-ZÀ-Ý]{2,}s?")

class _Word(NamedTuple):
    """What the rules need of a token, computed once per distinct token (see :func:`_word`)."""

    lemma: str  #: lower-case lemma, or the acronym as written (singular)
    lower: str  #: lower-case text
    content: bool  #: a content word (noun, verb, adjective, adverb; no name, no grammar word)
    kinds: tuple[str, ...]  #: the lexicons it belongs to
    pos: str
    text: str


_LEXICONS = (("management", MANAGEMENT), ("trade", TRADE), ("values", VALUES), ("negative", NEGATIVE), ("positive", POSITIVE))


@functools.lru_cache(maxsize=200_000)
def _word(text: str, lemma: str, pos: str, is_stop: bool) -> _Word:
    acronym = _ACRONYM.fullmatch(text) is not None
    if acronym:
        key = text[:-1] if text.endswith("s") and len(text) > 3 else text
    else:
        key = lemma.lower()
    lexical = pos in CONTENT_POS or acronym
    kinds = tuple(kind for kind, words in _LEXICONS if lexical and key in words)
    content = is_content_word(text, pos, is_stop)
    return _Word(key, text.lower(), content, kinds, pos, text)


def _words(tokens: Sequence[Token]) -> list[_Word]:
    return [_word(text, lemma, pos, is_stop) for text, lemma, pos, is_stop, _ in tokens]


def _sentences(words: Sequence[_Word]) -> Iterable[list[_Word]]:
    """The passage's sentences; pseudo-sentences of a few content words when it has no punctuation
    (see :func:`ethos.text.pseudo_sentence_starts`)."""
    starts = pseudo_sentence_starts([(word.text, word.content) for word in words])
    if len(starts) > 1:
        for start, end in zip(starts, starts[1:] + [len(words)]):
            yield list(words[start:end])
        return
    sentence: list[_Word] = []
    for word in words:
        sentence.append(word)
        if word.text in _SENTENCE_END:
            yield sentence
            sentence = []
    if sentence:
        yield sentence


def _negated(sentence: Sequence[_Word], lowers: Sequence[str]) -> list[bool]:
    """For each word, whether it lies between a negation and the end of its clause."""
    if _NEGATION_TEXTS.isdisjoint(lowers):
        return [False] * len(sentence)
    inside, out = False, []
    for word in sentence:
        if word.text in _CLAUSE_END or word.lemma == "mais":
            inside = False
        elif word.lower in _NEGATION_TEXTS:
            inside = True
        out.append(inside)
    return out


def _reported(sentence: Sequence[_Word], lemmas: Sequence[str], lowers: Sequence[str]) -> list[bool]:
    """For each word, whether it is in someone else's words: after a verb of saying whose subject is
    another (il, ils, on nous, an institution) until the sentence ends, or inside quotation marks."""
    out = [False] * len(sentence)
    if _SAYING.isdisjoint(lemmas) and _REPORTING.isdisjoint(lemmas) and _QUOTES.isdisjoint(lowers):  # quotes have no case
        return out  # most sentences: no verb of saying, no quotation, no « selon »
    quoted = False
    start = None
    for i, word in enumerate(sentence):
        if word.text in _QUOTES_OPEN:
            quoted = True
        elif word.text in _QUOTES_CLOSE:
            quoted = False
        out[i] = quoted
        if start is None and lemmas[i] in _SAYING and word.pos in ("VERB", "AUX"):
            before = [w.lower for w in sentence[max(0, i - 3):i]]
            before_lemmas = lemmas[max(0, i - 4):i]
            if any(w in _OTHERS for w in before) or ("on" in before and any(w in ("nous", "me", "m'", "m’", "leur") for w in before)) \
                    or any(l in INSTITUTIONS for l in before_lemmas):
                if not any(w in _FIRST_PERSON for w in before):
                    start = i + 1
    if start is not None:
        for i in range(start, len(sentence)):
            out[i] = True
    for i, lemma in enumerate(lemmas):  # « selon l'ARS, ... », « d'après le siège, ... »
        if lemma in _REPORTING and i + 2 < len(lemmas) and any(l in INSTITUTIONS for l in lemmas[i + 1:i + 4]):
            for j in range(i, len(sentence)):
                if sentence[j].text in _CLAUSE_END and j > i + 1:
                    break
                out[j] = True
    return out


_PHRASES_BY_START: dict[str, list[tuple[str, ...]]] = {}
for _phrase in _CRITIQUE_PHRASES:
    _PHRASES_BY_START.setdefault(_phrase[0], []).append(tuple(_phrase))
_PHRASE_STARTS = frozenset(phrase[:2] for phrase in _CRITIQUE_PHRASES)


def _critique(lemmas: Sequence[str]) -> bool:
    """Whether a sentence is framed as a critique (« on nous impose », « au détriment de », « soi-disant »...)."""
    if not _CRITIQUE_LEMMAS.isdisjoint(lemmas):
        return True
    if _PHRASE_STARTS.isdisjoint(zip(lemmas, lemmas[1:])):  # most sentences: no phrase starts
        return False
    for i, lemma in enumerate(lemmas):
        for phrase in _PHRASES_BY_START.get(lemma, ()):
            if tuple(lemmas[i:i + len(phrase)]) == phrase:
                return True
    return False


#: Names of the passage-level features, as a sociologist reads them.
MANAGEMENT_CRITICISED = "gestion critiquée"
MANAGEMENT_PRAISED = "gestion valorisée"
MANAGEMENT_PLAIN = "gestion sans jugement"
MANAGEMENT_REPORTED = "gestion dans la bouche d'autrui"
VALUES_SUBORDINATED = "valeurs puis « mais » gestion"
AFTER_BUT_MANAGEMENT = "après « mais »: gestion"
AFTER_BUT_TRADE = "après « mais »: métier et personnes"
NO_SECTOR_WORD = "hors sujet: aucun mot du métier ni de la gestion"
LEXICON_NAMES = {
    "management": "lexique: gestion",
    "trade": "lexique: métier et personnes",
    "values": "lexique: valeurs et sens",
    "negative": "évaluation négative",
    "positive": "évaluation positive",
}
ENUNCIATION_NAMES = {
    "je": "énonciation: je (engagement)",
    "il faut": "énonciation: il faut (impersonnel)",
    "nous": "énonciation: nous (institution, collectif)",
    "on nous": "énonciation: on nous (d'autres décident)",
}
NEGATED, REPORTED, CRITIQUED, CONCLUDED = "NÉG: ", "discours rapporté: ", "critique: ", "conclusion: "


def _conclusion(sentences: Sequence[list[_Word]]) -> list[_Word]:
    """Where a passage concludes (the codebook's rule for mixed passages: the conclusion decides): what
    follows its last « mais » when that is in its last two sentences, else its last sentence when it
    has several."""
    for k in range(len(sentences) - 1, max(-1, len(sentences) - 3), -1):
        sentence = sentences[k]
        for i in range(len(sentence) - 1, -1, -1):
            if sentence[i].lemma == "mais":
                return sentence[i + 1:] + [w for later in sentences[k + 1:] for w in later]
    return sentences[-1] if len(sentences) > 1 else []


def marked_word(feature: str) -> str | None:
    """The lemma a scope feature marks (``NÉG: rentable`` -> ``rentable``), else None."""
    for prefix in (NEGATED, REPORTED, CRITIQUED, CONCLUDED):
        if feature.startswith(prefix) and feature[len(prefix):] not in LEXICON_NAMES.values():
            return feature[len(prefix):]
    return None


def stance_marks(tokens: Sequence[Token]) -> Counter:
    """The named stance features of a passage's tokens, with their counts."""
    marks: Counter = Counter()
    sector_words = 0
    values_seen = False
    sentences = list(_sentences(_words(tokens)))
    for word in _conclusion(sentences):
        if (word.content and word.pos != "PROPN") or word.kinds:
            marks[CONCLUDED + word.lemma] += 1
        for kind in word.kinds:
            marks[CONCLUDED + LEXICON_NAMES[kind]] += 1
    for sentence in sentences:
        lemmas, lowers = [w.lemma for w in sentence], [w.lower for w in sentence]
        negated, reported = _negated(sentence, lowers), _reported(sentence, lemmas, lowers)
        critique = _critique(lemmas)
        found = {"management": 0, "trade": 0, "values": 0, "negative": 0, "positive": 0}
        after_but = False
        but_management = but_trade = 0
        values_before_but = False
        last = len(sentence) - 1
        for i, word in enumerate(sentence):
            lemma, lower, kinds = word.lemma, word.lower, word.kinds
            if lemma == "mais":
                after_but = True
                values_before_but = values_seen or found["values"] > 0
                continue
            for kind in kinds:
                found[kind] += 1
            management = "management" in kinds
            if after_but and management:
                but_management += 1
            if after_but and "trade" in kinds:
                but_trade += 1
            if (word.content and word.pos != "PROPN") or management:
                if negated[i] and lower not in _NEGATION_TEXTS:
                    marks[NEGATED + lemma] += 1
                if reported[i]:
                    marks[REPORTED + lemma] += 1
                if critique:
                    marks[CRITIQUED + lemma] += 1
            if lower in ("je", "j'", "j’") and i < last and sentence[i + 1].pos in ("VERB", "AUX", "PRON", "ADV"):
                marks[ENUNCIATION_NAMES["je"]] += 1
            elif lemma == "falloir" and (i == 0 or sentence[i - 1].lower in ("il", "faut")):
                marks[ENUNCIATION_NAMES["il faut"]] += 1
            elif lower in _WE and not (i > 0 and sentence[i - 1].lower == "on"):
                marks[ENUNCIATION_NAMES["nous"]] += 1
            elif lower == "on" and i < last and sentence[i + 1].lower in ("nous", "leur"):
                marks[ENUNCIATION_NAMES["on nous"]] += 1
        for kind, count in found.items():
            if count:
                marks[LEXICON_NAMES[kind]] += count
        sector_words += found["management"] + found["trade"] + found["values"]
        values_seen = values_seen or found["values"] > 0
        if found["management"]:
            held_off = critique or found["negative"] or any(negated[i] for i, l in enumerate(lemmas) if l in MANAGEMENT)
            if held_off:
                marks[MANAGEMENT_CRITICISED] += found["management"]
            elif found["positive"]:
                marks[MANAGEMENT_PRAISED] += found["management"]
            elif any(reported[i] for i, l in enumerate(lemmas) if l in MANAGEMENT):
                marks[MANAGEMENT_REPORTED] += found["management"]
            else:
                marks[MANAGEMENT_PLAIN] += found["management"]
        if but_management:
            marks[AFTER_BUT_MANAGEMENT] += but_management
            if values_before_but:
                marks[VALUES_SUBORDINATED] += 1
        if but_trade:
            marks[AFTER_BUT_TRADE] += but_trade
    if tokens and not sector_words:
        marks[NO_SECTOR_WORD] += 1
    return marks


def passage_marks(tokens: Sequence[Token], scoped_words: bool = True) -> Counter:
    """:func:`stance_marks` of a passage, once per passage in a lemma session; ``scoped_words=False``
    leaves out the marks of single words (``NÉG: rentable``), keeping the passage-level ones."""
    marks = derived(("StanceFeatures",), tokens, lambda: stance_marks(tokens))
    if scoped_words:
        return marks
    return Counter({name: n for name, n in marks.items() if marked_word(name) is None})


def stance_matrix(passages: Sequence[Sequence[Token]], vocabulary: dict[str, int], weight: float = 1.0,
                  scoped_words: bool = True) -> sparse.csr_matrix:
    """One row per passage over the columns of ``vocabulary``: sublinear counts (``1 + log n``) of its
    marks, scaled so that the row has length ``weight`` (the features of a fitted
    :class:`ethos.transformers.StanceFeatures`)."""
    rows, columns, values = [], [], []
    for i, tokens in enumerate(passages):
        kept = [(vocabulary[name], 1.0 + math.log(count)) for name, count in passage_marks(tokens, scoped_words).items() if name in vocabulary]
        norm = math.sqrt(sum(v * v for _, v in kept))
        for j, value in kept:
            rows.append(i)
            columns.append(j)
            values.append(weight * value / norm)
    return sparse.csr_matrix((values, (rows, columns)), shape=(len(passages), len(vocabulary)), dtype=np.float64)


# --- families of grammar words, for reports ----------------------------------------------------------

#: Grammar words that say who speaks and how, grouped under names a sociologist reads.
FAMILIES = (
    ("je, me, moi, mon (première personne)", frozenset({"je", "me", "moi", "mon", "mien"})),
    ("nous, notre (collectif)", frozenset({"nous", "notre"})),
    ("on (indéfini)", frozenset({"on"})),
    ("il, ils, eux (les autres)", frozenset({"il", "lui", "luire", "eux", "leur", "elle"})),  # spaCy lemmatises « lui » as « luire » at times
    ("vous, tu (adresse)", frozenset({"vous", "votre", "tu", "te", "toi", "ton"})),
    ("négation (ne, pas, jamais)", frozenset({"ne", "pas", "jamais", "rien", "aucun"})),
)
GRAMMAR = "mots grammaticaux (le, de, que, être…)"


def family(ngram: str, grammar: frozenset[str]) -> str | None:
    """The family name under which a lemma n-gram made only of grammar words is reported, else None."""
    parts = ngram.split(" ")
    if not all(part in grammar for part in parts):
        return None
    named = {name for part in parts for name, members in FAMILIES if part in members}
    return named.pop() if len(named) == 1 else GRAMMAR
