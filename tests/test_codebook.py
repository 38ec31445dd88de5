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
        load_codebook(path)


def test_broken_codebook(tmp_path):
    path = tmp_path / "cb.toml"
    path.write_text("labels = [", encoding="utf-8")
    with pytest.raises(EthosError, match="not a valid TOML codebook"):
        load_codebook(path)
