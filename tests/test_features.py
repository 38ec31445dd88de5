import io
import re

import joblib
import numpy as np
import pytest
from sklearn.base import clone

from ethos.cleaning import clean
from ethos.features import feature_lemma, kept_tokens
from ethos.transformers import LemmaText, Lemmatizer, MeanVectors, ngram_vectoriser
from ethos.nlp import Token, Tokens, lemma_session, lemmatize

from conftest import ROOT


def token(text, lemma=None, pos="NOUN", stop=False):
    return Token(text, lemma or text.lower(), pos, stop, 0)


@pytest.mark.parametrize("tokens, kept", [
    ([token("Castel", pos="PROPN"), token("signe", "signer", "VERB")], ["signe"]),
    ([token("le"), token("CPOM", pos="PROPN"), token("avec"), token("l'"), token("ARS", pos="PROPN")], ["le", "CPOM", "avec", "l'", "ARS"]),
    ([token("depuis"), token("2019", pos="NUM"), token("trois", pos="NUM"), token("ans")], ["depuis", "ans"]),
    ([token("Dylan", pos="NOUN"), token("m'"), token("a"), token("dit"), token("Kevin", pos="NOUN")], ["Dylan", "m'", "a", "dit"]),
    ([token("oui"), token("."), token("Ensuite", pos="ADV"), token("Roubaix", pos="NOUN")], ["oui", "Ensuite"]),
    ([token("T4"), token("—", pos="PUNCT"), token("...", pos="PUNCT"), token("équipe")], ["équipe"]),
    # « neuves » has the lemma « neuf », which a model's vocabulary would show as a number
    ([token("des"), token("chambres", "chambre"), token("neuves", "neuf", "ADJ")], ["des", "chambres"]),
])
def test_kept_tokens_leave_out_names_and_numbers(tokens, kept):
    for t in tokens:
        if t.text == ".":
            tokens[tokens.index(t)] = Token(".", ".", "PUNCT", False, 0)
    assert [t.text for t in kept_tokens(tokens)] == kept


def test_feature_lemmas_are_lower_case_except_acronyms():
    assert feature_lemma(token("Équipes", "Équipe")) == "équipe"
    assert feature_lemma(token("EHPAD", "EHPAD")) == "EHPAD"
    assert feature_lemma(token("parce que", "parce que", "SCONJ")) == "parce_que"


def test_lemma_text_from_spacy_keeps_no_name_or_number():
    text = clean("Mme Castel a signé le CPOM avec l’ARS en 2019, et Dylan est revenu voir les éducateurs de Roubaix.")
    tokens = [Tokens(lemmatize([text])[0], text)]
    words = LemmaText().transform(tokens)[0].split()
    assert "CPOM" in words and "ARS" in words and "éducateur" in words and "signer" in words
    assert not {"castel", "Castel", "2019", "dylan", "Dylan", "roubaix", "Roubaix"} & set(words)
    assert "le" not in LemmaText(stop_words=False).transform(tokens)[0].split()


@pytest.mark.parametrize("step", [Lemmatizer(), LemmaText(stop_words=False), MeanVectors(weight=0.5), ngram_vectoriser()])
def test_steps_follow_estimator_conventions(step):
    twin = clone(step)
    assert twin.get_params() == step.get_params()
    assert twin.set_params(**step.get_params()) is twin
    buffer = io.BytesIO()
    joblib.dump(step, buffer)
    buffer.seek(0)
    assert joblib.load(buffer).get_params() == step.get_params()


def test_fit_returns_self_and_vectoriser_forgets_dropped_terms():
    passages = ["gamin éducateur terrain", "gamin équipe", "castel piloter indicateur", "piloter indicateur"]
    for method in ("fit", "fit_transform"):
        vectoriser = ngram_vectoriser()
        result = getattr(vectoriser, method)(passages)
        if method == "fit":
            assert result is vectoriser
        assert not hasattr(vectoriser, "stop_words_")
        assert "castel" not in vectoriser.vocabulary_ and "gamin" in vectoriser.vocabulary_
    for step in (Lemmatizer(), LemmaText()):
        assert step.fit([]) is step


def test_lemmatizer_uses_the_session_and_remembers_texts(tmp_path):
    with lemma_session(None) as session:
        first = Lemmatizer().transform(["Les gamins sont là."])
        assert Lemmatizer().transform(["Les gamins sont là."])[0] is first[0]
        assert first[0].text == "Les gamins sont là." and "Les gamins sont là." in session.memo


def test_mean_vector_shares_add_up_to_the_feature_exactly():
    text = "Les éducateurs connaissent les gamins, le terrain et les familles."
    tokens = [Tokens(lemmatize([text])[0], text)]
    step = MeanVectors(weight=0.7).fit(tokens)
    row = step.transform(tokens).toarray()[0]
    assert np.linalg.norm(row) == pytest.approx(0.7)
    weights = np.random.default_rng(0).normal(size=row.shape[0])
    shares = step.word_shares(tokens[0], weights)
    assert set(shares) == {"éducateurs", "connaissent", "gamins", "terrain", "familles"}
    assert sum(shares.values()) == pytest.approx(float(row @ weights), abs=1e-9)


def _words(text: str) -> list:
    return [token(w, pos="PUNCT" if w in ".,!?" else ("DET" if w in ("le", "la", "les", "de", "on") else "NOUN"),
                  stop=w in ("le", "la", "les", "de", "on")) for w in text.split()]


def test_the_conclusion_is_the_last_sentence_and_what_follows_the_last_but():
    from ethos.features import conclusion_tokens

    tokens = _words("les chiffres comptent . mais les équipes , surtout , comptent . voilà le métier")
    assert [t.text for t in conclusion_tokens(tokens)] == ["mais", "les", "équipes", ",", "surtout", ",", "comptent", ".", "voilà", "le", "métier"]
    assert [t.text for t in conclusion_tokens(_words("un métier de terrain"))] == ["un", "métier", "de", "terrain"]


def test_an_unpunctuated_passage_concludes_with_its_last_pseudo_sentence():
    from ethos.features import conclusion_tokens
    from ethos.text import PSEUDO_SENTENCE_WORDS

    words = " ".join(f"mot{i}" for i in range(3 * PSEUDO_SENTENCE_WORDS + 2))
    assert [t.text for t in conclusion_tokens(_words(words))] == [f"mot{i}" for i in range(3 * PSEUDO_SENTENCE_WORDS, 3 * PSEUDO_SENTENCE_WORDS + 2)]
    with_fillers = " ".join(f"mot{i} ben" for i in range(3 * PSEUDO_SENTENCE_WORDS + 2))  # fillers move no boundary
    assert [t.text for t in conclusion_tokens(_words(with_fillers))][0] == f"mot{3 * PSEUDO_SENTENCE_WORDS}"


def test_the_conclusion_and_the_stance_rules_cut_the_same_pseudo_sentences():
    from ethos.features import conclusion_tokens
    from ethos.stance import _sentences, _words as stance_words

    # « - » tagged as an adverb is no content word for either (it has no letter)
    tokens = [Token("-" if i % 4 == 3 else f"mot{i}", "-" if i % 4 == 3 else f"mot{i}", "ADV" if i % 4 == 3 else "NOUN", False, 0)
              for i in range(40)]
    sentences = list(_sentences(stance_words(tokens)))
    assert len(sentences) == 4  # 30 content words: three pseudo-sentences of nine and one of three (not 40: five)
    assert [w.text for w in sentences[-1]] == [t.text for t in conclusion_tokens(tokens)]


# Four passages as spaCy tokenises them (negation, reported discourse, « mais », numbers, a name, acronyms,
# fillers, a passage without punctuation), written out so that the digest below depends on ethos alone.
_FIXED_PASSAGES = [
    [("Le", "le", "DET", True), ("siège", "siège", "NOUN", False), ("nous", "nous", "PRON", True), ("explique", "expliquer", "VERB", False),
     ("qu'", "que", "SCONJ", True), ("il", "il", "PRON", True), ("faut", "falloir", "VERB", False), ("mutualiser", "mutualiser", "VERB", False),
     (",", ",", "PUNCT", False), ("mais", "mais", "CCONJ", True), ("moi", "moi", "PRON", True), ("je", "je", "PRON", True), ("ne", "ne", "ADV", True),
     ("crois", "croire", "VERB", False), ("pas", "pas", "ADV", True), ("que", "que", "SCONJ", True), ("ce", "ce", "PRON", True),
     ("soit", "être", "AUX", True), ("rentable", "rentable", "ADJ", False), ("pour", "pour", "ADP", True), ("les", "le", "DET", True),
     ("familles", "famille", "NOUN", False), (".", ".", "PUNCT", False)],
    [("On", "on", "PRON", True), ("est", "être", "AUX", True), ("passé", "passer", "VERB", False), ("de", "de", "ADP", True),
     ("12", "12", "PRON", False), ("à", "à", "ADP", True), ("40", "40", "NUM", False), ("lits", "lit", "NOUN", False), ("en", "en", "ADP", True),
     ("2019", "2019", "NUM", False), ("avec", "avec", "ADP", True), ("Mme", "mme", "NOUN", False), ("Durand", "Durand", "PROPN", False),
     (",", ",", "PUNCT", False), ("et", "et", "CCONJ", True), ("l'", "le", "DET", True), ("ARS", "ars", "NOUN", False), ("a", "avoir", "AUX", True),
     ("validé", "valider", "VERB", False), ("le", "le", "DET", True), ("CPOM", "CPOM", "PROPN", False), (".", ".", "PUNCT", False)],
    [("Franchement", "franchement", "ADV", False), (",", ",", "PUNCT", False), ("euh", "euh", "ADV", False), (",", ",", "PUNCT", False),
     ("le", "le", "DET", True), ("terrain", "terrain", "NOUN", False), (",", ",", "PUNCT", False), ("j'", "je", "PRON", True), ("y", "y", "PRON", True),
     ("crois", "croire", "VERB", False), ("plus", "plus", "ADV", True), (":", ":", "PUNCT", False), ("c'", "ce", "PRON", True), ("est", "être", "AUX", True),
     ("justement", "justement", "ADV", False), ("pour", "pour", "ADP", True), ("ça", "cela", "PRON", True), ("que", "que", "PRON", True),
     ("je", "je", "PRON", True), ("sais", "savoir", "VERB", False), ("qu'", "que", "SCONJ", True), ("il", "il", "PRON", True),
     ("faut", "falloir", "VERB", False), ("piloter", "piloter", "VERB", False), ("la", "le", "DET", True), ("performance", "performance", "NOUN", False)],
    # unpunctuated, as ICOR or CFPP transcribe: pseudo-sentences; « - » tagged ADV; « neuves », lemma « neuf »
    [("ben", "ben", "ADV", False), ("on", "on", "PRON", True), ("a", "avoir", "AUX", True), ("ouvert", "ouvrir", "VERB", True),
     ("trois", "trois", "NUM", True), ("chambres", "chambre", "NOUN", False), ("neuves", "neuf", "ADJ", False), ("l'", "le", "DET", True),
     ("an", "an", "NOUN", False), ("dernier", "dernier", "ADJ", False), ("-", "-", "ADV", False), ("et", "et", "CCONJ", True),
     ("franchement", "franchement", "ADV", False), ("les", "le", "DET", True), ("équipes", "équipe", "NOUN", False),
     ("voulaient", "vouloir", "VERB", False), ("surtout", "surtout", "ADV", True), ("du", "de", "ADP", True),
     ("temps", "temps", "NOUN", False), ("pour", "pour", "ADP", True), ("accompagner", "accompagner", "VERB", False),
     ("les", "le", "DET", True), ("résidents", "résident", "NOUN", False), ("alors", "alors", "ADV", True), ("que", "que", "SCONJ", True),
     ("la", "le", "DET", True), ("direction", "direction", "NOUN", False), ("parlait", "parler", "VERB", False),
     ("taux", "taux", "NOUN", False), ("d'", "de", "ADP", True), ("occupation", "occupation", "NOUN", False),
     ("tableaux", "tableau", "NOUN", False), ("de", "de", "ADP", True), ("bord", "bord", "NOUN", False),
     ("indicateurs", "indicateur", "NOUN", False), ("et", "et", "CCONJ", True), ("moi", "moi", "PRON", True), ("je", "je", "PRON", True),
     ("trouvais", "trouver", "VERB", False), ("qu'", "que", "SCONJ", True), ("on", "on", "PRON", True),
     ("perdait", "perdre", "VERB", False), ("le", "le", "DET", True), ("sens", "sens", "NOUN", False), ("du", "de", "ADP", True),
     ("métier", "métier", "NOUN", False), ("au", "au", "ADP", True), ("quotidien", "quotidien", "NOUN", False),
     ("avec", "avec", "ADP", True), ("les", "le", "DET", True), ("familles", "famille", "NOUN", False), ("qui", "qui", "PRON", True),
     ("venaient", "venir", "VERB", False), ("nous", "nous", "PRON", True), ("voir", "voir", "VERB", False), ("le", "le", "DET", True),
     ("soir", "soir", "NOUN", False)],
]

# One digest per features version: a change that gives a passage other features adds a version here
# and raises FEATURES_VERSION, so that models trained before it warn when they are loaded.
_FEATURE_DIGESTS = {2: "dcbac18196ccca2fd4c7154e33083982efe8bf530659836c76e22b9f9dab7c86"}


def test_the_features_of_a_passage_change_only_with_the_features_version():
    import hashlib
    import json

    from ethos.features import FEATURES_VERSION, conclusion_text, lemma_text
    from ethos.stance import passage_marks
    from ethos.text import is_content_word, pseudo_sentence_starts

    assert max(_FEATURE_DIGESTS) == FEATURES_VERSION and len(set(_FEATURE_DIGESTS.values())) == len(_FEATURE_DIGESTS)
    unpunctuated = [(text, is_content_word(text, pos, stop)) for text, _, pos, stop in _FIXED_PASSAGES[-1]]
    assert len(pseudo_sentence_starts(unpunctuated)) > 1  # the digest covers the cutting into pseudo-sentences

    features = []
    for spelled in _FIXED_PASSAGES:
        offsets = [0]
        for text, *_ in spelled:
            offsets.append(offsets[-1] + len(text) + 1)
        tokens = [Token(text, lemma, pos, stop, idx) for (text, lemma, pos, stop), idx in zip(spelled, offsets)]
        features.append([lemma_text(tokens), lemma_text(tokens, False), conclusion_text(tokens), conclusion_text(tokens, False),
                         sorted(passage_marks(tokens).items()), sorted(passage_marks(tokens, False).items())])
    digest = hashlib.sha256(json.dumps(features, ensure_ascii=False).encode()).hexdigest()
    assert digest == _FEATURE_DIGESTS.get(FEATURES_VERSION), (
        f"the features of passages changed ({digest}): raise FEATURES_VERSION in ethos/features.py and record the digest "
        f"under it; what they are now: {json.dumps(features, ensure_ascii=False)}")


SHIPPED_MODEL = ROOT / "models" / "default"


def test_the_shipped_model_has_this_ethos_s_features_and_loads_without_a_warning():
    import json
    import warnings

    from ethos.features import FEATURES_VERSION
    from ethos.model import load_model

    assert json.loads((SHIPPED_MODEL / "manifest.json").read_text())["features"] == FEATURES_VERSION, "retrain it: make train"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_model(SHIPPED_MODEL)


@pytest.mark.parametrize("recorded, said", [
    ("missing", r"the features of an earlier ethos \(features version 1, this ethos computes version \d+\).*retrain it"),
    (None, r"the features of an earlier ethos \(features version 1,"),
    (99, r"the features of a later ethos \(features version 99, .*update ethos, or retrain it"),
    ("2", "gives no readable features version"),
    (True, "gives no readable features version"),
    ("x\ny", "gives no readable features version"),
    ([2], "gives no readable features version"),
])
def test_a_model_trained_with_other_features_warns_on_one_line_when_it_is_loaded(tmp_path, recorded, said):
    import json
    import shutil
    import warnings

    from ethos.model import load_model

    copy = tmp_path / "other"
    shutil.copytree(SHIPPED_MODEL, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    if recorded == "missing":
        del manifest["features"]  # a model of before the version was recorded
    else:
        manifest["features"] = recorded
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_model(copy)
    assert len(caught) == 1 and "\n" not in str(caught[0].message)
    assert re.search(said, str(caught[0].message))
