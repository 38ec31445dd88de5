"""`ethos train`, `ethos evaluate` and `ethos check`: the model, how well it does, how it behaves."""

from __future__ import annotations

import shutil
import sys
import warnings
from pathlib import Path

import click

from ..errors import EthosError
from ..render.table import _f, write_check_table, write_evaluation_table, write_table
from .options import ANNOTATED, DEFAULT_CHECKS, annotation_files_read, cache_options, checks_option, codebook_option, data_option, default_model_dir, lemmatise_with_bar, make_cache, model_option, output_options, progress_bar, quiet_option, read_default_checks, read_training_data, refuse_existing, write_json_or_table
from .group import main


@main.command()
@data_option
@click.option("--model-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("models") / "default", show_default=True,
              help="Where to write the model; a model already there is moved to archive/ beside it.")
@click.option("--folds", "n_splits", type=click.IntRange(2, 20), default=5, show_default=True, help="Folds of the grouped cross-validation.")
@click.option("--quick", is_flag=True, help="Refit the previous model's configuration (or the default) without comparing candidates.")
@click.option("--metadata", type=click.Path(dir_okay=False, path_type=Path),
              help="Table with a `pseudonym` column whose words are masked from the training texts "
                   "[default: data/transcripts/metadata.csv when present].")
@click.option("--no-metadata", is_flag=True, help="Mask no names (when the texts are already pseudonymised throughout).")
@checks_option
@codebook_option
@cache_options
@quiet_option
def train(data_paths, model_dir, n_splits, quick, metadata, no_metadata, check_paths, codebook, n_process, cache_dir, no_cache, quiet):
    """Train a model on every annotation file under DATA.

    A passage's label is its gold (adjudicated) label, else its coders' majority; ties are left out
    and listed. Candidate classifiers are compared by cross-validation grouped by interview (fixed
    seeds), the best is fitted on every passage and saved with its manifest. A model already in
    MODEL_DIR is kept under archive/; what changed since it is reported, with a warning when the new
    model does worse.

    \b
    Examples:
      ethos train
      ethos train --data data/annotated --data new_coding.csv --model-dir models/2026-11
      ethos train --quick
    """
    from ..codebook import load_codebook
    from ..model.evaluation import SELECTION_RULE
    from ..model.pipeline import CANDIDATES, Candidate, DEFAULT_CANDIDATE
    from ..model.retraining import changed_passages, compare_with_previous
    from ..model.saving import TrainingLock, build_manifest, read_manifest, save_model
    from ..model.evaluation import train as train_model
    from ..nlp import lemma_session

    if no_metadata:
        metadata = None
    elif metadata is None and (Path("data") / "transcripts" / "metadata.csv").is_file():
        metadata = Path("data") / "transcripts" / "metadata.csv"
    elif metadata is None:
        warnings.warn("no metadata file (data/transcripts/metadata.csv is not here): the interviewees' pseudonyms are not masked "
                      "from the training texts; give one with --metadata, or say --no-metadata")
    with TrainingLock(model_dir):
        data = read_training_data(data_paths, codebook, quiet, metadata)
        unused = [label for label in load_codebook(codebook).names if label not in data.label_order]
        if unused:
            warnings.warn(f"no passage is labelled {', '.join(unused)}: the model will never give {'these labels' if len(unused) > 1 else 'this label'}")
        previous = None
        if (model_dir / "manifest.json").exists():
            try:
                previous = read_manifest(model_dir)
            except EthosError as error:
                warnings.warn(f"the previous model cannot be compared: {error}")
        candidates = CANDIDATES
        if quick:
            try:
                candidates = [Candidate.from_dict(previous["model"])] if previous else [DEFAULT_CANDIDATE]
            except (KeyError, TypeError, ValueError):
                candidates = [DEFAULT_CANDIDATE]
        report = (lambda message: None) if quiet else (lambda message: click.echo(message, err=True))
        with lemma_session(make_cache(cache_dir, no_cache), n_process=n_process):
            lemmatise_with_bar(data.texts, quiet)
            checks = read_default_checks(check_paths, data.label_order)
            training = train_model(data, candidates=candidates, n_splits=n_splits, checks=checks, report=report)
        manifest = build_manifest(training)
        if metadata is not None:
            manifest["training_data"]["names_masked_from"] = metadata.name
        if previous is not None:
            manifest["previous"] = compare_with_previous(previous, training)
        archived = save_model(training.model, manifest, model_dir)
        if archived is not None and read_manifest(archived).get("sha256") == read_manifest(model_dir)["sha256"]:
            shutil.rmtree(archived)  # the same model again (a --quick refit of the same data): one copy is enough
            if not any(archived.parent.iterdir()):
                archived.parent.rmdir()
            archived = None

    click.echo()
    click.echo("Candidates (grouped cross-validation, macro-F1 over all out-of-fold predictions of speech):")
    layers = list(training.comparison[0].get("per_layer") or {})
    capabilities = list(training.comparison[0].get("checks") or {})
    rows = [[("* " if c.get("chosen") else "  ") + c["candidate"], _f(c["macro_f1"]), _f(c["macro_f1_fold_sd"])]
            + [_f(c["per_layer"][layer]) for layer in layers] + [_f(c["checks"][name]) for name in capabilities]
            + [_f(c["selection_score"]) + ("" if c.get("keeps_floors", True) else " (below floors)"), f"{c['seconds']:.1f} s"]
            for c in training.comparison]
    write_table(sys.stdout, rows, ["candidate", "macro-F1", "fold sd"] + [f"F1 {layer}" for layer in layers] + capabilities + ["selection", "time"])
    click.echo(f"* chosen by {SELECTION_RULE}")
    click.echo()
    write_evaluation_table(sys.stdout, training.evaluation)
    if previous is not None:
        change = manifest["previous"]
        click.echo()
        new = ", ".join(f"{label} {n}" for label, n in change["new_per_label"].items())
        click.echo(f"Since the previous model ({change['previous_created']}): {change['new_passages']} new passages ({new}), "
                   f"{change['relabelled_passages']} relabelled, {change['gone_passages']} gone"
                   + _copies_changed(change))
        added, relabelled = changed_passages(previous, training.data)
        if added:
            click.echo("  new: " + ", ".join(f"{d}/{p}" for d, p in added[:12]) + (f" and {len(added) - 12} more" if len(added) > 12 else ""))
        for (doc_id, passage_id), old, now in relabelled[:12]:
            click.echo(f"  relabelled: {doc_id}/{passage_id} {old} -> {now}")
        if len(relabelled) > 12:
            click.echo(f"  and {len(relabelled) - 12} more relabelled")
        for name, (old, now) in change["figures"].items():
            click.echo(f"  {name:<14} {_f(old)} -> {_f(now)}")
        if change["worse"]:
            old_f1, new_f1 = change["figures"]["macro_f1"]
            spread = training.evaluation.get("macro_f1_fold_sd")
            changed = sum(change[key] for key in ("new_passages", "new_contrast_passages", "relabelled_passages", "relabelled_contrast_passages", "gone_passages"))
            warnings.warn(f"the new model's grouped macro-F1 ({_f(new_f1)}) is lower than the previous model's ({_f(old_f1)}) by {old_f1 - new_f1:.3f}"
                          + (f" (its spread over folds is {spread:.3f})" if spread is not None else "") + f"; the previous model is kept in {archived}"
                          + (f". The data changed ({changed} passages new, relabelled or gone), so the two figures are not measured on the same "
                             f"passages: `ethos evaluate --model {archived}` cross-validates the previous configuration on today's data" if changed else ""))
    click.echo()
    click.echo(f"Model written to {model_dir}" + (f"; the previous one is in {archived}" if archived else ""))


@main.command()
@data_option
@model_option
@click.option("--folds", "n_splits", type=click.IntRange(2, 20), default=5, show_default=True, help="Folds of the grouped cross-validation.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--no-learning-curve", is_flag=True, help="Skip the learning curve (faster).")
@click.option("--plots", "plots_dir", type=click.Path(file_okay=False, path_type=Path), help="Also draw the confusion matrix, per-label F1, learning curve and reliability chart as PNG files in DIR (created if missing; files of the same names there are kept unless --force).")
@checks_option
@codebook_option
@cache_options
@output_options
@quiet_option
def evaluate(data_paths, model_dir, n_splits, fmt, no_learning_curve, plots_dir, check_paths, codebook, n_process, cache_dir, no_cache, output, force, quiet):
    """Cross-validate the model's configuration on annotated passages, grouped by interview.

    No interview has passages on both sides of a fold. Gives macro-F1, per-label precision, recall
    and F1, the confusion matrix, Cohen's kappa against the coders' labels, each fold's figures and a
    learning curve (F1 as the number of training interviews grows: still rising means more coding
    would help). The configuration is the one recorded in MODEL's manifest (nothing is loaded from
    its data files).

    \b
    Examples:
      ethos evaluate
      ethos evaluate --data data/annotated --format json -o evaluation.json
      ethos evaluate --plots figures/
    """
    read = annotation_files_read(data_paths or [ANNOTATED])
    refuse_existing(force, output, reads=read)
    refuse_existing(force, *evaluation_plot_files(plots_dir, with_learning_curve=not no_learning_curve), reads=read, make_folders=True)
    from ..model.evaluation import evaluate as evaluate_model
    from ..model.pipeline import Candidate, DEFAULT_CANDIDATE
    from ..model.saving import read_manifest
    from ..nlp import lemma_session

    candidate = DEFAULT_CANDIDATE
    manifest_dir = model_dir or default_model_dir()
    if (manifest_dir / "manifest.json").exists():
        recorded = read_manifest(manifest_dir).get("model") or {}
        try:
            candidate = Candidate.from_dict(recorded)
        except (KeyError, TypeError, ValueError):
            raise EthosError(f"{manifest_dir}: the manifest does not say how the model was configured; retrain it with `ethos train`") from None
    elif model_dir is not None:
        read_manifest(model_dir)
    default_metadata = Path("data") / "transcripts" / "metadata.csv"
    data = read_training_data(data_paths, codebook, quiet, default_metadata if default_metadata.is_file() else None)
    with lemma_session(make_cache(cache_dir, no_cache), n_process=n_process):
        lemmatise_with_bar(data.texts, quiet)
        checks = read_default_checks(check_paths, data.label_order)
        evaluation = evaluate_model(data, candidate, n_splits=n_splits, with_learning_curve=not no_learning_curve, checks=checks)
    write_json_or_table(output, force, fmt, evaluation, write_evaluation_table)
    if plots_dir is not None:
        write_evaluation_plots(evaluation, plots_dir, codebook, quiet)


@main.command()
@click.argument("check_paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@model_option
@data_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--failures", "n_failures", type=click.IntRange(0, None), default=10, show_default=True, help="Failures listed per capability in the table.")
@codebook_option
@cache_options
@output_options
@quiet_option
def check(check_paths, model_dir, data_paths, fmt, n_failures, codebook, n_process, cache_dir, no_cache, output, force, quiet):
    """Behavioural checks of a model: does its label follow the stance, and only the stance?

    CHECKS are check tables (.jsonl or .csv; default data/checks): edited passages, each a `flip`
    (a minimal edit that turns the stance around, with the label it should then get) or an
    invariance (`names`, `convention`, `fillers`, `speaker-label`: an edit that must not change the
    label). Reports, per capability, the share of edited passages whose label behaves as it should,
    and lists the failures. A passage from an interview the model was trained on is judged by the
    fold model of its cross-validation that did not see that interview (refitted from DATA, the
    model's training data), so that the figures are out-of-fold; any other passage is judged by the
    model itself.

    \b
    Examples:
      ethos check
      ethos check data/checks/flips.jsonl --format json -o checks.json
      ethos check mes_controles.csv --model models/2026-11
    """
    from ..checks import check_files, check_report, read_checks
    from ..model.evaluation import _fitted, check_results, folds_of_manifest
    from ..model.pipeline import Candidate
    from ..model.saving import load_model
    from ..nlp import lemma_session

    paths = list(check_paths) or [DEFAULT_CHECKS]
    if not check_paths and not DEFAULT_CHECKS.is_dir():
        raise click.UsageError("no check tables given, and data/checks is not here: name them (for example `ethos check mes_controles.jsonl`)")
    refuse_existing(force, output, reads=check_files(paths))
    model_dir = model_dir or default_model_dir()
    model = load_model(model_dir)
    items = read_checks(paths, model.labels)
    metadata = Path("data") / "transcripts" / "metadata.csv"
    data = None
    if data_paths or ANNOTATED.is_dir():
        data = read_training_data(data_paths, codebook, True, metadata if metadata.is_file() else None)
        recorded = (model.manifest.get("training_data") or {}).get("sha256")
        if recorded and recorded != data.digest():
            warnings.warn(f"the annotations under {', '.join(map(str, data_paths or [ANNOTATED]))} are not the ones {model_dir} was trained on: "
                          "the fold models are refitted on them, so the figures describe that data, not exactly this model")
    with lemma_session(make_cache(cache_dir, no_cache), n_process=n_process):
        if data is not None and any(item.doc_id in set(data.groups) for item in items):
            folds = folds_of_manifest(model.manifest, data)
            candidate = Candidate.from_dict(model.manifest["model"])
            lemmatise_with_bar(data.texts, quiet)
            weights = data.sample_weights()
            fold_models = []
            with progress_bar(len(folds), "Refitting fold models", quiet) as bar:
                for train_rows, _ in folds:
                    fold_models.append(_fitted(candidate.pipeline(), [data.texts[i] for i in train_rows], [data.labels[i] for i in train_rows],
                                               None if weights is None else weights[train_rows]))
                    bar.update(1)
            results = check_results(items, data, folds, fold_models, model)
        else:
            from ..checks import run_checks

            results = run_checks(items, {"model": model.predict}, lambda item: "model")
    report = check_report(results)
    report["model"] = str(model_dir)
    write_json_or_table(output, force, fmt, report, lambda handle, document: write_check_table(handle, document, n_failures))


def _copies_changed(change: dict) -> str:
    """The edited copies (the contrast layer) new or relabelled since the previous model, as the end of its summary line."""
    parts = [f"{change[key]} {what}" for key, what in (("new_contrast_passages", "new"), ("relabelled_contrast_passages", "relabelled")) if change.get(key)]
    return f"; edited copies (contrast layer): {', '.join(parts)}" if parts else ""


def evaluation_plot_files(folder: Path | None, *, with_learning_curve: bool) -> list[Path]:
    """The chart files `evaluate --plots` would write in ``folder``."""
    from ..plots import EVALUATION_FILES

    if folder is None:
        return []
    return [folder / name for key, name in EVALUATION_FILES.items() if with_learning_curve or key != "learning_curve"]


def write_evaluation_plots(evaluation: dict, folder: Path, codebook: Path | None, quiet: bool) -> None:
    from ..codebook import load_codebook
    from ..plots import plot_evaluation

    try:
        written = plot_evaluation(evaluation, folder, load_codebook(codebook))
    except OSError as error:
        raise EthosError(f"{folder}: cannot be written ({error.strerror or error})") from None
    if not quiet:
        click.echo(f"Charts written to {folder}: {', '.join(p.name for p in written)}", err=True)
