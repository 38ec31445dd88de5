"""No personal name enters a model trained on the bundled corpus."""

import csv
import json
import re

import pytest
from click.testing import CliRunner

from ethos.cleaning import clean
from ethos.cli import main
from ethos.features import TITLES, is_acronym, is_number_word
from ethos.model import NAME_PARTICLES, name_tokens
from ethos.nlp import LemmaCache, lemmatize

from conftest import ROOT

METADATA = ROOT / "data" / "transcripts" / "metadata.csv"


@pytest.fixture(scope="module")
def bundled_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("privacy") / "model"
    result = CliRunner().invoke(main, ["train", "--data", str(ROOT / "data" / "annotated"), "--metadata", str(METADATA),
                                       "--model-dir", str(folder), "--quick", "--folds", "2", "-q"])
    assert result.exit_code == 0, result.output
    return folder


def vocabulary_words(folder):
    """Every word of the model's features: its lemma n-grams, and the words its stance features mark."""
    from ethos.stance import marked_word

    description = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    words = {word for feature in description["ngrams"]["vocabulary"] for word in feature.split()}
    words |= {word for feature in ((description.get("conclusion") or {}).get("ngrams") or {}).get("vocabulary", {}) for word in feature.split()}
    return words | {marked_word(name) for name in (description["stance"] or {}).get("vocabulary", {}) if marked_word(name)}


def test_a_name_that_only_ever_opens_sentences_is_no_feature(bundled_model):
    """Issue 13: « Karima », a first name of two interviews, always at the start of a sentence, got in."""
    from ethos.features import name_like_lemmas

    texts = [row["text"] for path in sorted((ROOT / "data" / "annotated").glob("*.csv")) for row in csv.DictReader(open(path, encoding="utf-8"))]
    assert any(re.search(r"(^|[.!?] )Karima\b", t) for t in texts) and not any(re.search(r"\bkarima\b", t) for t in texts)
    lowered = {w.lower() for w in vocabulary_words(bundled_model)}
    assert "karima" not in lowered
    capitalised_only = name_like_lemmas(lemmatize([clean(t) for t in texts], cache=LemmaCache()))
    assert len(capitalised_only) > 50 and not capitalised_only & lowered


def test_no_word_of_a_pseudonym_is_a_feature(bundled_model):
    pseudonyms = {row["pseudonym"] for row in csv.DictReader(open(METADATA, encoding="utf-8"))}
    tokens = {t.strip(".()").lower() for p in pseudonyms for t in re.split(r"[\s,-]+", p)} - NAME_PARTICLES - {""}
    words = {w.lower() for w in vocabulary_words(bundled_model)}
    assert len(words) > 2000
    assert not (tokens | TITLES) & words
    assert name_tokens(METADATA) <= tokens and "pierre" in name_tokens(METADATA)  # « Mme Pierre », also a common noun


def test_no_proper_noun_number_or_title_is_a_feature(bundled_model):
    texts = [clean(row["text"]) for row in csv.DictReader(open(ROOT / "data" / "annotated" / "gold.csv", encoding="utf-8"))]
    tagged = lemmatize(texts, cache=LemmaCache())
    as_proper, as_common = set(), set()
    for tokens in tagged:
        for token in tokens:
            if token.pos == "PROPN":
                as_proper.add(token.text.lower())
            else:
                as_common.update((token.text.lower(), token.lemma.lower()))
    only_proper = {w for w in as_proper - as_common if not is_acronym(w.upper()) or w.upper() != w}
    words = vocabulary_words(bundled_model)
    lowered = {w.lower() for w in words}
    assert len(as_proper) > 300
    # a word the tagger only ever saw as a proper noun is not a feature (acronyms such as CPOM excepted)
    assert not {w for w in only_proper if w in lowered and not is_acronym(next(x for x in words if x.lower() == w))}
    assert not [w for w in words if re.search(r"\d", w) or is_number_word(w)]
    assert all(is_acronym(w) for w in words if w[:1].isupper())


def test_the_manifest_names_no_one(bundled_model):
    manifest = (bundled_model / "manifest.json").read_text(encoding="utf-8")
    surnames = {row["pseudonym"].split()[-1] for row in csv.DictReader(open(METADATA, encoding="utf-8"))}
    assert not [s for s in surnames if re.search(rf"\b{re.escape(s)}\b", manifest)]
    assert json.loads(manifest)["training_data"]["passages_with_names_masked"] > 0
