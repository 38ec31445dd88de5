"""Charts for papers and reports: PNG files drawn with matplotlib, in French, in the codebook's colours.

Each function takes the data dictionary a command already produces (an evaluation, top features,
an ethos profile) and a path. Figures are drawn on matplotlib's Agg canvas without pyplot, so no
window is ever opened, no global backend is changed and nothing is kept in memory after a call.
A PNG is written beside its destination and renamed into place, never half-written. The same data
give the same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from .codebook import Codebook, load_codebook
from .textio import atomic_write

DPI = 150
#: Features drawn per label at most: beyond this a panel is unreadable on a page.
MAX_FEATURES = 40
INK = "#333333"
GRID = "#dddddd"
POSITION_TITLES = {"siege": "siège", "proximite": "proximité"}
SOURCE_TITLES = {"coded": "étiquettes des codeurs", "model": "étiquettes prédites par le modèle"}
EVALUATION_FILES = {"confusion": "confusion.png", "f1": "f1_per_label.png", "learning_curve": "learning_curve.png",
                    "reliability": "reliability.png"}
LAYER_TITLES = {"base": "première couche", "hard": "couche difficile"}


# --- helpers ---------------------------------------------------------------------------------------

def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save(figure, path: Path) -> Path:
    path = Path(path)
    with atomic_write(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=DPI, facecolor="white")
    return path


def _styles(labels: Sequence[str], codebook: Codebook | None) -> dict[str, tuple[str, str]]:
    """``{label: (French title, colour)}`` from the codebook; unknown labels keep their name, in grey."""
    known = {label.name: label for label in (codebook or load_codebook()).labels}
    return {name: (known[name].title_fr, known[name].colour) if name in known else (name, "#777777") for name in labels}


def _decimal(value: float, digits: int = 2) -> str:
    """A number as French writes it: ``0,95``, ``−0,30``."""
    return f"{value:.{digits}f}".replace(".", ",").replace("-", "\u2212")


def _points(value: float) -> str:
    return f"{100 * value:+.0f}".replace("-", "\u2212")


def _plain_axes(axes, grid_axis: str = "x") -> None:
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.grid(axis=grid_axis, color=GRID, linewidth=0.6)
    axes.set_axisbelow(True)


def _decimal_ticks(axes, axis: str = "y", digits: int = 1) -> None:
    from matplotlib.ticker import FuncFormatter

    formatter = FuncFormatter(lambda value, _: _decimal(value, digits))
    (axes.yaxis if axis == "y" else axes.xaxis).set_major_formatter(formatter)


def _text_colour(background: str, alpha: float) -> str:
    from matplotlib.colors import to_rgb

    r, g, b = (alpha * c + (1 - alpha) for c in to_rgb(background))
    return "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.55 else "black"


# --- evaluation ------------------------------------------------------------------------------------

def plot_confusion(evaluation: dict, path: Path, codebook: Codebook | None = None) -> Path:
    """The confusion matrix of out-of-fold predictions: counts, and the share of each row.

    A cell is tinted with the colour of its row's label, the stronger the larger its share of the row.
    """
    labels = evaluation["labels"]
    matrix = evaluation["confusion"]["matrix"]
    styles = _styles(labels, codebook)
    size = 1.3 * len(labels) + 2.2
    figure = _figure(size + 0.6, size)
    axes = figure.add_subplot()
    from matplotlib.colors import to_rgba

    for i, row in enumerate(matrix):
        total = sum(row) or 1
        colour = styles[labels[i]][1]
        for j, count in enumerate(row):
            share = count / total
            axes.add_patch(_cell(j, i, to_rgba(colour, 0.08 + 0.92 * share)))
            axes.text(j, i, f"{count}\n({100 * share:.0f}\u00a0%)", ha="center", va="center", fontsize=10,
                      color=_text_colour(colour, 0.08 + 0.92 * share), fontweight="bold" if i == j else "normal")
    axes.set_xlim(-0.5, len(labels) - 0.5)
    axes.set_ylim(len(labels) - 0.5, -0.5)
    axes.set_xticks(range(len(labels)), [styles[label][0] for label in labels])
    axes.set_yticks(range(len(labels)), [styles[label][0] for label in labels])
    for ticks in (axes.get_xticklabels(), axes.get_yticklabels()):
        for tick, label in zip(ticks, labels):
            tick.set_color(styles[label][1])
            tick.set_fontweight("bold")
    axes.tick_params(length=0)
    for side in axes.spines.values():
        side.set_visible(False)
    axes.set_xlabel("Étiquette prédite par le modèle")
    axes.set_ylabel("Étiquette des codeurs")
    axes.set_title(f"Matrice de confusion\n(validation croisée par entretien, {evaluation.get('n_passages', sum(map(sum, matrix)))} passages)", fontsize=11)
    return _save(figure, path)


def _cell(x: float, y: float, colour):
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.5, y - 0.5), 1, 1, facecolor=colour, edgecolor="white", linewidth=2)


def plot_f1(evaluation: dict, path: Path, codebook: Codebook | None = None) -> Path:
    """F1 of each label (bars in the label's colour), with its precision and recall, and the macro-F1."""
    per_label = evaluation["per_label"]
    labels = list(per_label)
    styles = _styles(labels, codebook)
    figure = _figure(1.5 * len(labels) + 2.5, 4.2)
    axes = figure.add_subplot()
    positions = range(len(labels))
    f1 = [per_label[label]["f1"] for label in labels]
    axes.bar(positions, f1, width=0.6, color=[styles[label][1] for label in labels])
    for x, label in zip(positions, labels):
        figures = per_label[label]
        axes.text(x, figures["f1"] + 0.02, _decimal(figures["f1"]), ha="center", va="bottom", fontsize=11, fontweight="bold", color=INK)
        axes.text(x, 0.04, f"précision {_decimal(figures['precision'])}\nrappel {_decimal(figures['recall'])}",
                  ha="center", va="bottom", fontsize=8, color="white")
    macro = evaluation.get("macro_f1")
    title = "F1 par étiquette"
    if macro is not None:
        axes.axhline(macro, color=INK, linestyle=(0, (4, 3)), linewidth=0.9, zorder=3)
        title += f" (tirets : F1 macro {_decimal(macro)})"
    axes.set_xticks(list(positions), [styles[label][0] for label in labels])
    axes.set_ylim(0, 1.1)
    axes.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    _decimal_ticks(axes, "y")
    axes.set_ylabel("F1 (validation croisée par entretien)")
    axes.set_title(title, fontsize=11)
    _plain_axes(axes, "y")
    return _save(figure, path)


def plot_learning_curve(evaluation: dict, path: Path) -> Path:
    """Macro-F1 on the same test folds as the number of training interviews grows (± sd over folds)."""
    curve = evaluation["learning_curve"]
    sizes = [point["train_interviews"] for point in curve]
    f1 = [point["macro_f1"] for point in curve]
    sd = [point["sd"] or 0.0 for point in curve]
    figure = _figure(6.0, 4.0)
    axes = figure.add_subplot()
    axes.errorbar(sizes, f1, yerr=sd, color=INK, marker="o", markersize=5, capsize=3, linewidth=1.5)
    for size, value in zip(sizes, f1):
        axes.annotate(_decimal(value), (size, value), textcoords="offset points", xytext=(6, -12), ha="left", fontsize=9, color=INK)
    ticks = [f"{size}\n(tous)" if point.get("note") else str(size) for size, point in zip(sizes, curve)]
    axes.set_xticks(sizes, ticks)
    axes.set_xlim(0, max(sizes) * 1.08 + 1)
    axes.set_ylim(0, 1.05)
    _decimal_ticks(axes, "y")
    axes.set_xlabel("Entretiens dans l’entraînement")
    axes.set_ylabel("F1 macro (mêmes plis de test)")
    axes.set_title("Courbe d’apprentissage : une courbe qui monte encore\nà droite dit que coder davantage paierait", fontsize=11)
    _plain_axes(axes, "y")
    return _save(figure, path)


def plot_reliability(evaluation: dict, path: Path) -> Path:
    """Reliability chart: for each bin of the winning probability, how often the label is right
    (out-of-fold), overall and per layer of the corpus; the diagonal is perfect calibration."""
    calibration = evaluation["calibration"]
    series = [("tout le corpus", calibration, INK, "o")]
    markers = ["s", "^", "D", "v"]
    colours = ["#1f6fb2", "#c0621b", "#2e8b57", "#8a4fbf"]
    for i, (layer, figures) in enumerate((calibration.get("per_layer") or {}).items()):
        series.append((LAYER_TITLES.get(layer, layer), figures, colours[i % len(colours)], markers[i % len(markers)]))
    figure = _figure(5.5, 5.0)
    axes = figure.add_subplot()
    axes.plot([0, 1], [0, 1], color=GRID, linewidth=1.2, linestyle="--", label="calibration parfaite")
    for name, figures, colour, marker in series:
        rows = figures["reliability"]
        axes.plot([r["confidence"] for r in rows], [r["accuracy"] for r in rows], color=colour, marker=marker, markersize=5, linewidth=1.3,
                  label=f"{name} (ECE {_decimal(figures['expected_calibration_error'], 3)})")
    axes.set_xlim(0.3, 1.01)
    axes.set_ylim(0, 1.02)
    _decimal_ticks(axes, "x")
    _decimal_ticks(axes, "y")
    axes.set_xlabel("Probabilité de l’étiquette choisie (moyenne du groupe)")
    axes.set_ylabel("Part d’étiquettes justes (hors pli)")
    axes.set_title("Fiabilité des probabilités", fontsize=11)
    axes.legend(loc="lower right", fontsize=8, frameon=False)
    _plain_axes(axes, "y")
    return _save(figure, path)


def plot_evaluation(evaluation: dict, folder: Path, codebook: Codebook | None = None) -> list[Path]:
    """The confusion matrix, per-label F1, learning curve and reliability chart (those evaluated) as
    PNG files in ``folder`` (created if missing; files of the same names there are replaced)."""
    folder = Path(folder)
    written = [plot_confusion(evaluation, folder / EVALUATION_FILES["confusion"], codebook),
               plot_f1(evaluation, folder / EVALUATION_FILES["f1"], codebook)]
    if evaluation.get("learning_curve"):
        written.append(plot_learning_curve(evaluation, folder / EVALUATION_FILES["learning_curve"]))
    if (evaluation.get("calibration") or {}).get("reliability"):
        written.append(plot_reliability(evaluation, folder / EVALUATION_FILES["reliability"]))
    return written


# --- features --------------------------------------------------------------------------------------

def plot_features(features: dict[str, list[dict]], path: Path, codebook: Codebook | None = None) -> Path:
    """One panel per label: its top features (``{label: [{"feature", "weight"}, ...]}``, strongest
    first) as horizontal bars, the strongest at the top; at most :data:`MAX_FEATURES` per panel."""
    labels = list(features)
    styles = _styles(labels, codebook)
    shown = {label: rows[:MAX_FEATURES] for label, rows in features.items()}
    rows_max = max([len(rows) for rows in shown.values()] + [1])
    columns = min(3, max(1, len(labels)))
    lines = -(-len(labels) // columns)
    figure = _figure(3.6 * columns + 0.4, lines * (0.24 * rows_max + 1.0) + 0.4)
    grid = figure.add_gridspec(lines, columns)
    weights_all = [row["weight"] for rows in shown.values() for row in rows] or [0.0]
    reach = (min(0.0, min(weights_all)) * 1.05, max(0.0, max(weights_all)) * 1.05 or 1.0)
    for n, label in enumerate(labels):
        axes = figure.add_subplot(grid[n // columns, n % columns])
        rows = shown[label]
        title, colour = styles[label]
        weights = [row["weight"] for row in rows]
        axes.barh(range(len(rows)), weights, height=0.7, color=colour)
        axes.set_yticks(range(len(rows)), [row["feature"] for row in rows], fontsize=9)
        axes.set_ylim(rows_max - 0.5, -0.5)
        axes.set_xlim(*reach)
        axes.axvline(0, color=INK, linewidth=0.8)
        axes.set_title(title, color=colour, fontweight="bold", fontsize=11)
        axes.set_xlabel("poids dans le modèle", fontsize=9)
        axes.tick_params(axis="y", length=0)
        _decimal_ticks(axes, "x")
        _plain_axes(axes, "x")
    figure.suptitle("Lemmes et paires de lemmes qui pèsent le plus vers chaque étiquette (même échelle)", fontsize=12)
    return _save(figure, path)


# --- ethos profiles --------------------------------------------------------------------------------

def plot_profile(profile: dict, path: Path, codebook: Codebook | None = None) -> Path:
    """The ethos profile of each interview, grouped by position, and the ``siege - proximite`` difference.

    One panel per label: each interview's share of passages (dot) with its bootstrap interval
    (line); each position's mean share (vertical line) with its interval (band). Below, the
    difference between the positions' mean shares for each label, with its interval.
    """
    from matplotlib.collections import LineCollection

    labels = profile["labels"]
    styles = _styles(labels, codebook)
    level = profile["bootstrap"]["level"]
    rows = []  # (y, kind, payload)
    blocks = []
    y = 0.0
    documents = profile["documents"]
    for group in profile["groups"] + ([{"position": None}] if profile["without_position"] else []):
        members = [d for d in documents if d["position"] == group["position"]]
        name = POSITION_TITLES.get(group["position"], group["position"]) if group["position"] else "sans position"
        rows.append((y, f"{name.upper()} ({len(members)})"))
        first = y + 1
        for document in members:
            y += 1
            rows.append((y, document["doc_id"]))
        blocks.append((group, members, first, y))
        y += 1.6

    n_labels = len(labels)
    height = 0.17 * y + (2.6 if profile["difference"] else 1.2)
    figure = _figure(2.9 * n_labels + 1.6, height)
    grid = figure.add_gridspec(2 if profile["difference"] else 1, n_labels, height_ratios=[0.17 * y, 1.5] if profile["difference"] else None)
    panels = []
    for k, label in enumerate(labels):
        title, colour = styles[label]
        axes = figure.add_subplot(grid[0, k])
        panels.append(axes)
        placed = [(first + offset, document["labels"][label]) for _, members, first, _ in blocks for offset, document in enumerate(members)]
        axes.add_collection(LineCollection([[(100 * f["ci"][0], row), (100 * f["ci"][1], row)] for row, f in placed],
                                           colors=colour, alpha=0.45, linewidths=1.6, capstyle="butt"))
        axes.plot([100 * f["share"] for _, f in placed], [row for row, _ in placed], "o", color=colour, markersize=3.6, linestyle="none")
        for group, members, first, last in blocks:
            if group.get("labels"):
                mean = group["labels"][label]
                if mean["ci"]:
                    axes.fill_betweenx([first - 0.5, last + 0.5], 100 * mean["ci"][0], 100 * mean["ci"][1], color=colour, alpha=0.15, linewidth=0)
                axes.plot([100 * mean["mean_share"]] * 2, [first - 0.5, last + 0.5], color=colour, linewidth=1.4)
                axes.text(100 * mean["mean_share"], first - 0.8, f" {100 * mean['mean_share']:.0f}\u00a0%", color=colour,
                          fontsize=8, fontweight="bold", va="bottom", ha="left")
        axes.set_xlim(-3, 103)
        axes.set_ylim(y - 1.1, -0.8)
        axes.set_xticks([0, 25, 50, 75, 100])
        axes.set_xlabel("part des passages (%)", fontsize=9)
        axes.set_title(title, color=colour, fontweight="bold", fontsize=11)
        _plain_axes(axes, "x")
        axes.tick_params(axis="y", length=0)
        if k:
            axes.set_yticks([])
    panels[0].set_yticks([r[0] for r in rows], [r[1] for r in rows], fontsize=7)
    for tick, (_, text) in zip(panels[0].get_yticklabels(), rows):
        if text.endswith(")"):
            tick.set_fontweight("bold")
            tick.set_fontsize(8)

    if profile["difference"]:
        _difference_panel(figure.add_subplot(grid[1, :]), profile, styles, level)
    resamples = profile["bootstrap"]["resamples"]
    source = SOURCE_TITLES.get((profile.get("source") or {}).get("labels"))
    figure.suptitle(f"Ethos par entretien : part des passages de chaque étiquette{f' ({source})' if source else ''}\n"
                    f"point : entretien, trait : IC {100 * level:.0f}\u00a0% bootstrap ({resamples} rééchantillonnages des passages) ; "
                    f"trait vertical et bande : moyenne de la position et son IC", fontsize=10)
    return _save(figure, path)


def _difference_panel(axes, profile: dict, styles: dict, level: float) -> None:
    labels = profile["labels"]
    difference = profile["difference"]
    first, second = (POSITION_TITLES.get(p, p) for p in difference["positions"])
    for k, label in enumerate(labels):
        figures = difference["labels"][label]
        colour = styles[label][1]
        if figures["ci"]:
            axes.plot([100 * figures["ci"][0], 100 * figures["ci"][1]], [k, k], color=colour, linewidth=3, solid_capstyle="butt", alpha=0.6)
        axes.plot(100 * figures["difference"], k, "o", color=colour, markersize=7)
        interval = f"  [{_points(figures['ci'][0])} ; {_points(figures['ci'][1])}]" if figures["ci"] else ""
        axes.annotate(f"{_points(figures['difference'])} points{interval}", (100 * figures["difference"], k), textcoords="offset points",
                      xytext=(0, 7), ha="center", va="bottom", fontsize=8, color=colour, fontweight="bold")
    axes.axvline(0, color=INK, linewidth=0.8)
    reach = max([abs(100 * v) for f in difference["labels"].values() for v in (f["ci"] or [f["difference"]])] + [5])
    axes.set_xlim(-reach * 1.25, reach * 1.25)
    axes.set_ylim(len(labels) - 0.4, -0.7)
    axes.set_yticks(range(len(labels)), [styles[label][0] for label in labels], fontsize=9)
    for tick, label in zip(axes.get_yticklabels(), labels):
        tick.set_color(styles[label][1])
    axes.set_xlabel(f"écart {first} \u2212 {second} des parts moyennes (points de %), IC {100 * level:.0f}\u00a0% en rééchantillonnant les entretiens", fontsize=9)
    axes.tick_params(axis="y", length=0)
    _plain_axes(axes, "x")
