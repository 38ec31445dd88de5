"""Charts: valid PNG files of sensible size, written atomically, never over a named file without --force."""

import json
import struct
import sys

import matplotlib.image
import numpy as np
import pytest
from click.testing import CliRunner

from ethos import plots
from ethos.cli import main
from ethos.codebook import Codebook

from conftest import ROOT

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def png_size(path) -> tuple[int, int]:
    """Width and height of a PNG file, after checking its signature and that it decodes to a real picture."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR", f"{path} is not a PNG file"
    width, height = struct.unpack(">II", data[16:24])
    image = matplotlib.image.imread(path)
    assert image.shape[:2] == (height, width)
    assert np.unique(image.reshape(-1, image.shape[2]), axis=0).shape[0] > 10, "a blank picture"
    return width, height


def assert_sensible(path, smallest=(500, 400), largest=(4000, 4000)):
    width, height = png_size(path)
    assert smallest[0] <= width <= largest[0] and smallest[1] <= height <= largest[1], (width, height)
    assert path.stat().st_size > 10_000


@pytest.fixture(scope="module")
def evaluation(trained_model):
    """The evaluation recorded when the session's model was trained (with a learning curve)."""
    return json.loads((trained_model / "manifest.json").read_text(encoding="utf-8"))["evaluation"]


def test_without_a_learning_curve_or_calibration_two_charts(evaluation, tmp_path):
    shorter = {k: v for k, v in evaluation.items() if k not in ("learning_curve", "calibration")}
    assert [p.name for p in plots.plot_evaluation(shorter, tmp_path)] == ["confusion.png", "f1_per_label.png"]


def test_reliability_chart_per_layer(evaluation, tmp_path):
    calibration = evaluation["calibration"]
    layered = dict(evaluation, calibration=dict(calibration, per_layer={"base": calibration, "hard": calibration}))
    assert_sensible(plots.plot_reliability(layered, tmp_path / "reliability.png"))


def test_charts_are_deterministic(evaluation, tmp_path):
    first = plots.plot_confusion(evaluation, tmp_path / "a.png").read_bytes()
    assert plots.plot_confusion(evaluation, tmp_path / "b.png").read_bytes() == first


def test_a_failed_drawing_leaves_the_old_file(evaluation, tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    target = tmp_path / "f1.png"
    target.write_bytes(b"precious")

    def broken(self, handle, **options):
        handle.write(b"half a picture")
        raise RuntimeError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(RuntimeError):
        plots.plot_f1(evaluation, target)
    assert target.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["f1.png"]


def test_labels_outside_the_codebook_are_drawn_in_grey():
    styles = plots._styles(["manager", "militant"], Codebook())
    assert styles == {"manager": ("cadre-manager", "#1f6fb2"), "militant": ("militant", "#777777")}


def test_evaluate_plots_through_the_command_line(trained_model, small_annotations, tmp_path):
    pyplot_before = "matplotlib.pyplot" in sys.modules
    folder = tmp_path / "new" / "figures"
    result = run("evaluate", "--data", small_annotations, "--model", trained_model, "--folds", "3", "--plots", folder)
    assert result.exit_code == 0, result.output
    assert f"Charts written to {folder}: confusion.png, f1_per_label.png, learning_curve.png, reliability.png" in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["confusion.png", "f1_per_label.png", "learning_curve.png", "reliability.png"]  # no temporary file left
    for path in folder.iterdir():
        assert_sensible(path)
    assert ("matplotlib.pyplot" in sys.modules) == pyplot_before  # drawn without pyplot: no window, no global backend


def test_evaluate_plots_never_replace_charts_without_force(trained_model, small_annotations, tmp_path):
    kept = tmp_path / "f1_per_label.png"
    kept.write_bytes(b"a chart from last year's paper")
    result = run("evaluate", "--data", small_annotations, "--model", trained_model, "--folds", "3", "--no-learning-curve", "--plots", tmp_path)
    assert result.exit_code == 1
    assert result.stderr == f"Error: {kept} exists; use --force to overwrite it\n"
    assert result.stdout == ""  # refused before any work
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f1_per_label.png"]
    assert kept.read_bytes() == b"a chart from last year's paper"
    (tmp_path / "learning_curve.png").write_bytes(b"not drawn with --no-learning-curve, so not in the way")
    kept.unlink()
    result = run("evaluate", "--data", small_annotations, "--model", trained_model, "--folds", "3", "--no-learning-curve", "--plots", tmp_path)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "learning_curve.png").read_bytes() == b"not drawn with --no-learning-curve, so not in the way"
    kept.write_bytes(b"old")
    result = run("evaluate", "--data", small_annotations, "--model", trained_model, "--folds", "3", "--no-learning-curve", "--plots", tmp_path, "--force")
    assert result.exit_code == 0, result.output
    assert_sensible(kept)


def test_features_plot_and_no_writing_over_without_force(trained_model, tmp_path):
    target = tmp_path / "features.png"
    target.write_bytes(b"precious")
    result = run("features", "--model", trained_model, "--no-examples", "--plot", target)
    assert result.exit_code == 1
    assert result.stderr == f"Error: {target} exists; use --force to overwrite it\n"
    assert result.stdout == ""  # refused before any work
    assert target.read_bytes() == b"precious"
    result = run("features", "--model", trained_model, "--no-examples", "--top", "12", "--plot", target, "--force")
    assert result.exit_code == 0, result.output
    assert f"Chart written to {target}" in result.stderr
    width, height = png_size(target)
    assert 1200 <= width <= 2500 and 400 <= height <= 1500


def test_many_features_are_capped(tmp_path, monkeypatch):
    features = {label: [{"feature": f"lemme{n}", "weight": 2.0 - n / 10} for n in range(12)] for label in ("manager", "artisan", "other")}
    monkeypatch.setattr(plots, "MAX_FEATURES", 8)
    _, capped = png_size(plots.plot_features(features, tmp_path / "capped.png"))
    monkeypatch.setattr(plots, "MAX_FEATURES", 4)
    _, fewer = png_size(plots.plot_features(features, tmp_path / "fewer.png"))
    assert capped - fewer == pytest.approx(4 * 0.24 * plots.DPI, abs=5)


def test_profile_chart(tmp_path):
    target = tmp_path / "profile.png"
    result = run("profile", ROOT / "data" / "annotated" / "gold.csv", "--metadata", ROOT / "data" / "transcripts" / "metadata.csv",
                 "--resamples", 200, "--plot", target, "-q")
    assert result.exit_code == 0, result.output
    width, height = png_size(target)
    assert 1000 <= width <= 2500 and 1000 <= height <= 3000


def test_profile_chart_without_a_difference_and_with_unplaced_interviews(tmp_path):
    from ethos.profile import ethos_profile

    profile = ethos_profile(["a", "a", "b", "b", "c"], ["manager", "other", "artisan", "artisan", "other"], ["manager", "artisan", "other"],
                            {"a": "siege", "b": "siege"}, resamples=100)
    assert profile["difference"] is None and profile["without_position"] == ["c"]
    width, height = png_size(plots.plot_profile(profile, tmp_path / "small.png"))
    assert width >= 1000 and 300 <= height <= 1000
