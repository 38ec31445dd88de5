import pytest

from ethos.codebook import CORE_LABELS, load_codebook
from ethos.errors import EthosError

from conftest import ROOT


def test_the_bundled_codebook_is_read():
    codebook = load_codebook(ROOT / "data" / "codebook.toml")
    assert codebook.names[:3] == CORE_LABELS
    assert [label.title_fr for label in codebook.labels] == ["cadre-manager", "artisan-cadre", "autre"]
    assert all(label.definition for label in codebook.labels)


def test_a_codebook_may_add_labels_but_keeps_the_three(tmp_path):
    path = tmp_path / "cb.toml"
    path.write_text('[[labels]]\nname = "manager"\n[[labels]]\nname = "artisan"\n[[labels]]\nname = "other"\n[[labels]]\nname = "militant"\n', encoding="utf-8")
    assert load_codebook(path).names == ("manager", "artisan", "other", "militant")
    path.write_text('[[labels]]\nname = "manager"\n', encoding="utf-8")
    with pytest.raises(EthosError, match="missing: artisan, other"):
        load_codebook(path, require_core=True)


def test_agreement_takes_a_codebook_of_other_codes_and_training_refuses_it(tmp_path):
    """Issue 13: a project's other codes (here, themes) can be measured; only training needs the ethos labels."""
    from click.testing import CliRunner

    from ethos.cli import main

    book = tmp_path / "themes.toml"
    book.write_text('[[labels]]\nname = "budget"\ncolour = "#a0a"\n[[labels]]\nname = "equipe"\ncolour = "#00aa55"\n', encoding="utf-8")
    codings = tmp_path / "themes.csv"
    codings.write_text("doc_id,passage_id,text,label,coder\n" + "".join(
        f"e{i % 3},p{i},texte {i},{label},{coder}\n" for i in range(12) for coder, label in
        (("A", "budget" if i % 2 else "equipe"), ("B", "budget" if i % 2 or i == 4 else "equipe"))), encoding="utf-8")
    result = CliRunner().invoke(main, ["agreement", str(codings), "--codebook", str(book), "--format", "json"])
    assert result.exit_code == 0, result.output
    import json

    report = json.loads(result.stdout)
    assert report["n_units"] == 12 and report["labels"] == ["budget", "equipe"]
    result = CliRunner().invoke(main, ["train", "--data", str(codings), "--codebook", str(book), "--model-dir", str(tmp_path / "m")])
    assert result.exit_code == 1 and "training and the ethos profile need the labels manager, artisan, other" in result.stderr
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("colour", ["red", "#12345", "#abcdefg", "#fff;background:url(http://x/)", '"><script>', "#0000ff00"])
def test_a_colour_that_is_not_hex_is_refused(tmp_path, colour):
    """Issue 13: codebook colours went into the HTML report's style attributes unchecked."""
    path = tmp_path / "cb.toml"
    path.write_text(f'[[labels]]\nname = "manager"\ncolour = {colour!r}\n'.replace("'", '"') if '"' not in colour else
                    f"[[labels]]\nname = \"manager\"\ncolour = '{colour}'\n", encoding="utf-8")
    with pytest.raises(EthosError, match="must be written #rgb or #rrggbb"):
        load_codebook(path)


def test_broken_codebook(tmp_path):
    path = tmp_path / "cb.toml"
    path.write_text("labels = [", encoding="utf-8")
    with pytest.raises(EthosError, match="not a valid TOML codebook"):
        load_codebook(path)
