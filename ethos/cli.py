"""The ``ethos`` command line: thin wrappers that parse options, call the library, render results."""

from __future__ import annotations

import functools
import json
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Callable, Iterator

import click

from . import __version__
from .errors import EthosError


class EthosGroup(click.Group):
    """Turns every :class:`EthosError` into a one-line message and exit code 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except EthosError as error:
            raise click.ClickException(str(error)) from None
        except BrokenPipeError:
            sys.stderr.close()
            ctx.exit(1)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    click.echo(f"Warning: {message}", err=True)


warnings.showwarning = _show_warning


@click.group(cls=EthosGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="ethos")
def main():
    """Code interviews of French social-sector managers with the ethos they express.

    \b
    Labels: manager (cadre-manager), artisan (artisan-cadre), other.
    Transcripts: .txt (any common encoding), .docx, .odt, .vtt, .srt, .TextGrid, .trs;
    passage tables: .csv (comma or semicolon), .jsonl with a `text` column.

    \b
    Examples:
      ethos score data/examples/exemple01.txt
      ethos segment interview.docx
      ethos agreement data/annotated --model models/default
      ethos train --data data/annotated
    """


# --- shared options -------------------------------------------------------------------------------

def paths_argument(function: Callable) -> Callable:
    return click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))(function)


def output_options(function: Callable) -> Callable:
    function = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE instead of standard output.")(function)
    function = click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")(function)
    return function


def segment_options(function: Callable) -> Callable:
    from .segment import MAX_WORDS, MIN_WORDS

    options = [
        click.option("--interviewer", "interviewers", multiple=True, metavar="LABEL", help="Speaker label of the interviewer (repeatable); found automatically otherwise."),
        click.option("--speaker", "speakers", multiple=True, metavar="LABEL", help="Keep only this interviewee (repeatable); every non-interviewer otherwise."),
        click.option("--max-words", type=click.IntRange(20, 2000), default=MAX_WORDS, show_default=True, help="Longer turns are cut at sentence boundaries."),
        click.option("--min-words", type=click.IntRange(1, 100), default=MIN_WORDS, show_default=True, help="Shorter turns carry no stance: counted, not kept."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def quiet_option(function: Callable) -> Callable:
    return click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary on standard error.")(function)


def cache_options(function: Callable) -> Callable:
    function = click.option("--no-cache", is_flag=True, help="Neither read nor write the lemma cache.")(function)
    function = click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), envvar="ETHOS_CACHE_DIR", help="Where the lemma cache lives [env: ETHOS_CACHE_DIR; default: the user's cache folder].")(function)
    function = click.option("--n-process", type=click.IntRange(1, 64), default=1, show_default=True, help="spaCy processes for lemmatising.")(function)
    return function


@contextmanager
def opened_output(path: Path | None, force: bool) -> Iterator[IO[str]]:
    """Standard output, or FILE written atomically (and never over an existing file without --force)."""
    if path is None or str(path) == "-":
        yield sys.stdout
        return
    from .textio import atomic_write

    if path.exists() and not force:
        raise EthosError(f"{path} exists; use --force to overwrite it")
    with atomic_write(path) as handle:
        yield handle


def write_json_or_table(output: Path | None, force: bool, fmt: str, document: dict, write_table_of: Callable[[IO[str], dict], None]) -> None:
    """One JSON document, or the readable table of it."""
    with opened_output(output, force) as handle:
        if fmt == "json":
            json.dump(document, handle, ensure_ascii=False, indent=1)
            handle.write("\n")
        else:
            write_table_of(handle, document)


def segment_settings(interviewers, speakers, max_words, min_words):
    from .segment import SegmentOptions

    return SegmentOptions(max_words=max_words, min_words=min_words, interviewers=tuple(interviewers), speakers=tuple(speakers))


def report_segmentation(inputs, quiet: bool) -> None:
    if quiet:
        return
    for stats in inputs.stats:
        interviewer = ", ".join(stats.interviewers) or "none"
        coverage = stats.passage_words / stats.interviewee_words if stats.interviewee_words else 0
        click.echo(
            f"{stats.doc_id}: {stats.passages} passages from {stats.interviewee_turns} interviewee turns "
            f"({coverage:.0%} of their words); interviewer: {interviewer} (by {stats.interviewer_found_by}); "
            f"{stats.short_turns} turns under the minimum length left out",
            err=True,
        )
    if not inputs.passages:
        raise EthosError("no interviewee passages found: check the speaker labels, or use --interviewer/--speaker")


def progress_bar(length: int, label: str, quiet: bool):
    """A progress bar on standard error, shown only to a person watching a terminal."""
    show = not quiet and sys.stderr.isatty()
    return click.progressbar(length=length, label=label, file=sys.stderr if show else _Null(), show_eta=True, show_pos=True)


class _Null:
    def write(self, *_):
        pass

    def flush(self):
        pass

    def isatty(self):
        return False


def write_table(handle: IO[str], rows: list[list], header: list[str]) -> None:
    """An aligned text table; the last column is cut to fit the terminal."""
    import shutil

    width = shutil.get_terminal_size((120, 24)).columns
    cells = [header] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header) - 1)]
    room = max(20, width - sum(widths) - 2 * len(widths))
    for row in cells:
        last = row[-1] if len(row[-1]) <= room else row[-1][: room - 1] + "…"
        handle.write("  ".join([c.ljust(w) for c, w in zip(row, widths)] + [last]).rstrip() + "\n")


def make_cache(cache_dir: Path | None, no_cache: bool):
    from .nlp import LemmaCache

    return None if no_cache else LemmaCache(cache_dir)


# --- commands -------------------------------------------------------------------------------------

@main.command()
@paths_argument
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "json", "table"]), default="jsonl", show_default=True)
@segment_options
@output_options
@quiet_option
def segment(paths, fmt, interviewers, speakers, max_words, min_words, output, force, quiet):
    """Cut transcripts into passages of interviewee speech.

    Finds the speakers, leaves the interviewer out, cleans transcription marks (in `clean`; `text` is
    the exact span start:end of the transcript) and cuts long turns at sentence boundaries.

    \b
    Examples:
      ethos segment data/transcripts/ent01.txt
      ethos segment entretien.docx --interviewer "Enquêtrice" --format csv -o passages.csv
    """
    from .inputs import read_inputs
    from .tables import write_csv, write_jsonl

    inputs = read_inputs(paths, segment_settings(interviewers, speakers, max_words, min_words))
    report_segmentation(inputs, quiet)
    records = [p.record() for p in inputs.passages]
    with opened_output(output, force) as handle:
        if fmt == "csv":
            write_csv(handle, records, ["doc_id", "passage_id", "speaker", "start", "end", "text", "clean"])
        elif fmt == "json":
            handle.write(json.dumps({"passages": records, "documents": [s.__dict__ for s in inputs.stats]}, ensure_ascii=False))
            handle.write("\n")
        elif fmt == "table":
            write_table(handle, [[r["doc_id"], r["passage_id"], r["speaker"] or "", r["clean"]] for r in records], ["document", "passage", "speaker", "clean text"])
        else:
            write_jsonl(handle, records)


@main.command()
@paths_argument
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "table"]), default="jsonl", show_default=True)
@segment_options
@cache_options
@output_options
@quiet_option
def lemmatize(paths, fmt, interviewers, speakers, max_words, min_words, n_process, cache_dir, no_cache, output, force, quiet):
    """Passages with their lemmas, from spaCy's French model (fr_core_news_md).

    Lemmas are cached (SQLite, under $ETHOS_CACHE_DIR or the user's cache folder), so a passage is
    never lemmatised twice; when every passage is cached spaCy is not even loaded.

    \b
    Examples:
      ethos lemmatize data/transcripts/ent01.txt
      ethos lemmatize data/transcripts/ --n-process 2 -o lemmas.jsonl
      ethos lemmatize passages.csv --no-cache --format csv
    """
    from .inputs import read_inputs
    from .nlp import lemmatize as lemmatize_texts
    from .tables import write_csv, write_jsonl

    inputs = read_inputs(paths, segment_settings(interviewers, speakers, max_words, min_words))
    report_segmentation(inputs, quiet)
    texts = [p.clean for p in inputs.passages]
    with progress_bar(len(texts), "Lemmatising", quiet) as bar:
        tokens = lemmatize_texts(texts, cache=make_cache(cache_dir, no_cache), n_process=n_process, progress=bar.update)
    records = []
    for passage, passage_tokens in zip(inputs.passages, tokens):
        record = passage.record()
        record["lemmas"] = " ".join(t.lemma for t in passage_tokens if t.pos not in ("PUNCT", "SPACE"))
        if fmt == "jsonl":
            record["tokens"] = [{"text": t.text, "lemma": t.lemma, "pos": t.pos, "stop": t.is_stop, "propn": t.is_proper_noun} for t in passage_tokens]
        records.append(record)
    with opened_output(output, force) as handle:
        if fmt == "csv":
            write_csv(handle, records, ["doc_id", "passage_id", "speaker", "start", "end", "clean", "lemmas"])
        elif fmt == "table":
            write_table(handle, [[r["doc_id"], r["passage_id"], r["lemmas"]] for r in records], ["document", "passage", "lemmas"])
        else:
            write_jsonl(handle, records)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--disagreements", "disagreements_file", type=click.Path(dir_okay=False, path_type=Path), help="Write every passage the coders disagree on, in the annotation format, for adjudication.")
@click.option("--resamples", type=click.IntRange(100, 100_000), default=1000, show_default=True, help="Bootstrap resamples for alpha's interval.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap.")
@click.option("--codebook", type=click.Path(dir_okay=False, path_type=Path), envvar="ETHOS_CODEBOOK", help="Codebook (TOML) whose labels coders may use [default: data/codebook.toml if present, else manager, artisan, other].")
@click.option("--model", "model_dir", type=click.Path(file_okay=False, path_type=Path), help="Add this model as one more coder, named `model` (out-of-fold predictions for the passages it was trained on).")
@cache_options
@output_options
def agreement(paths, fmt, disagreements_file, resamples, seed, codebook, model_dir, n_process, cache_dir, no_cache, output, force):
    """Inter-coder agreement over annotation files.

    A unit is a passage (doc_id, passage_id); a coder who did not code a unit is missing data, not a
    disagreement. The coder `gold` (adjudicated labels) is compared with each coder, never counted
    as one. Gives percent agreement, Krippendorff's alpha (nominal) with a bootstrap interval, Cohen's
    kappa for each pair, Fleiss' kappa, Gwet's AC1, per-label alpha and confusion matrices.

    \b
    Examples:
      ethos agreement data/annotated
      ethos agreement coder_a.csv coder_b.csv --format json -o agreement.json
      ethos agreement data/annotated --disagreements to_adjudicate.csv
      ethos agreement data/annotated --model models/default
    """
    from .agreement import agreement_report, reliability_from_codings
    from .annotations import read_codings
    from .codebook import load_codebook

    labels = load_codebook(codebook).names
    codings = read_codings(paths, labels)
    if model_dir is not None:
        from .model import MODEL_CODER, model_codings
        from .nlp import lemma_session

        if any(c.coder == MODEL_CODER for c in codings):
            raise EthosError(f"a coder in the annotation files is already named '{MODEL_CODER}'; rename it to compare with --model")
        with lemma_session(make_cache(cache_dir, no_cache), n_process=n_process):
            codings = codings + model_codings(model_dir, codings)
    data, gold = reliability_from_codings(codings, labels)
    report = agreement_report(data, gold=gold, resamples=resamples, seed=seed)
    if model_dir is not None:
        report["model"] = model_versus_coders(report, codings, labels, resamples, seed)
    if disagreements_file:
        write_disagreements(disagreements_file, force, data, codings)
    write_json_or_table(output, force, fmt, report, write_agreement_table)


def model_versus_coders(report: dict, codings, labels, resamples: int, seed: int) -> dict:
    """Does the model agree with the coders as well as they agree with each other?"""
    from .agreement import krippendorff_alpha, reliability_from_codings
    from .model import MODEL_CODER

    humans, _ = reliability_from_codings([c for c in codings if c.coder != MODEL_CODER], labels)
    pairs = report["cohen_kappa"]
    with_model = [p["kappa"] for p in pairs if MODEL_CODER in p["coders"] and p["kappa"] is not None]
    between_coders = [p["kappa"] for p in pairs if MODEL_CODER not in p["coders"] and p["kappa"] is not None]
    return {
        "krippendorff_alpha_coders_only": krippendorff_alpha(humans.counts()),
        "krippendorff_alpha_with_model": report["krippendorff_alpha"],
        "mean_kappa_model_with_coders": sum(with_model) / len(with_model) if with_model else None,
        "mean_kappa_between_coders": sum(between_coders) / len(between_coders) if between_coders else None,
        "out_of_fold_passages": sum(1 for c in codings if c.coder == MODEL_CODER and c.note == "out-of-fold"),
        "scored_passages": sum(1 for c in codings if c.coder == MODEL_CODER and c.note != "out-of-fold"),
    }


def write_disagreements(path: Path, force: bool, data, codings) -> None:
    from .agreement import disagreements
    from .tables import write_csv

    first = {}
    for coding in codings:
        first.setdefault(coding.unit, coding)
    rows = []
    for u in disagreements(data):
        unit = data.units[u]
        row = {"doc_id": unit[0], "passage_id": unit[1], "text": first[unit].text, "label": "", "coder": "gold",
               "start": first[unit].start if first[unit].start is not None else "", "end": first[unit].end if first[unit].end is not None else "", "note": ""}
        for c, coder in enumerate(data.coders):
            code = data.codes[u, c]
            row[f"label_{coder}"] = data.labels[code] if code >= 0 else ""
        rows.append(row)
    with opened_output(path, force) as handle:
        write_csv(handle, rows, ["doc_id", "passage_id", "text", "label", "coder", "start", "end", "note"] + [f"label_{c}" for c in data.coders])
    click.echo(f"{len(rows)} passages to adjudicate written to {path}", err=True)


def _figure(value) -> str:
    return "undefined" if value is None else f"{value:.3f}"


def write_agreement_table(handle: IO[str], report: dict) -> None:
    out = lambda line="": handle.write(line + "\n")  # noqa: E731
    out(f"Units (passages): {report['n_units']}, coded by two coders or more: {report['n_units_coded_twice']}")
    out(f"Coders: {', '.join(report['coders'])}    Labels: {', '.join(report['labels'])}")
    out()
    interval = report["krippendorff_alpha_ci95"]
    ci = f"  (95% CI {interval[0]:.3f} to {interval[1]:.3f}, {report['bootstrap']['resamples']} bootstrap resamples)" if interval else ""
    out(f"Krippendorff's alpha (nominal)  {_figure(report['krippendorff_alpha'])}{ci}")
    out(f"Percent agreement               {_figure(report['percent_agreement'])}  (pairs of coders agreeing, per unit)")
    out(f"Fleiss' kappa                   {_figure(report['fleiss_kappa'])}  ({report['fleiss_units']} units coded by every coder)")
    out(f"Gwet's AC1                      {_figure(report['gwet_ac1'])}")
    out()
    out("Cohen's kappa by pair of coders:")
    for pair in report["cohen_kappa"]:
        out(f"  {pair['coders'][0]} / {pair['coders'][1]}: {_figure(pair['kappa'])}  ({pair['n_units']} units)")
    out()
    out("Alpha per label (the label against the rest):")
    for label, figures in report["per_label"].items():
        out(f"  {label:<10} {_figure(figures['krippendorff_alpha'])}")
    for pair, matrix in ((c["coders"], c["matrix"]) for c in report["confusion"]):
        out()
        out(f"Confusion, rows {pair[0]}, columns {pair[1]}:")
        width = max(len(label) for label in report["labels"]) + 2
        out(" " * width + "".join(label.rjust(width) for label in report["labels"]))
        for label, row in zip(report["labels"], matrix):
            out(label.ljust(width) + "".join(str(v).rjust(width) for v in row))
    if report.get("gold"):
        out()
        out("Each coder against the gold (adjudicated) labels:")
        for row in report["gold"]:
            out(f"  {row['coder']}: agreement {_figure(row['agreement'])}, kappa {_figure(row['kappa'])}  ({row['n_units']} units)")
    model = report.get("model")
    if model:
        out()
        out(f"The model as a coder ({model['out_of_fold_passages']} passages by out-of-fold predictions, {model['scored_passages']} scored):")
        out(f"  alpha, coders only {_figure(model['krippendorff_alpha_coders_only'])}; with the model {_figure(model['krippendorff_alpha_with_model'])}")
        out(f"  mean Cohen's kappa: model with each coder {_figure(model['mean_kappa_model_with_coders'])}; between coders {_figure(model['mean_kappa_between_coders'])}")
    for note in report["notes"]:
        out(f"Note: {note}")
    out()
    out("Reading guide (Krippendorff): alpha >= 0.800 reliable; 0.667 to 0.800 for tentative conclusions only;")
    out("below 0.667, the coding is not reliable enough to draw conclusions from.")


# --- the model ------------------------------------------------------------------------------------

def default_model_dir() -> Path:
    """`models/default` under the current folder when there is one, else the shipped model."""
    local = Path("models") / "default"
    if (local / "manifest.json").exists():
        return local
    return Path(__file__).resolve().parent.parent / "models" / "default"


def model_option(function: Callable) -> Callable:
    return click.option("--model", "model_dir", type=click.Path(file_okay=False, path_type=Path), envvar="ETHOS_MODEL",
                        help="Model folder [env: ETHOS_MODEL; default: models/default, the shipped model].")(function)


def data_option(function: Callable) -> Callable:
    return click.option("--data", "data_paths", multiple=True, type=click.Path(path_type=Path),
                        help="Annotation folder or file (repeatable) [default: data/annotated].")(function)


def codebook_option(function: Callable) -> Callable:
    return click.option("--codebook", type=click.Path(dir_okay=False, path_type=Path), envvar="ETHOS_CODEBOOK",
                        help="Codebook (TOML) whose labels coders may use [default: data/codebook.toml if present, else manager, artisan, other].")(function)


def read_training_data(data_paths, codebook, quiet: bool):
    from .codebook import load_codebook
    from .model import training_data

    data = training_data(list(data_paths) or [Path("data") / "annotated"], load_codebook(codebook).names)
    if data.ties:
        shown = ", ".join(f"{d}/{p}" for d, p in data.ties[:5]) + (" …" if len(data.ties) > 5 else "")
        warnings.warn(f"{len(data.ties)} passages left out because their coders tie and no gold label settles them: {shown} (adjudicate them with `ethos agreement --disagreements`)")
    if data.empty:
        warnings.warn(f"{len(data.empty)} annotated passages have no words left after cleaning and are left out")
    if not quiet:
        counts = ", ".join(f"{label} {n}" for label, n in data.label_counts().items())
        sources = ", ".join(f"{n} by {source}" for source, n in data.sources.items())
        click.echo(f"{len(data.labels)} labelled passages from {len(data.documents)} interviews ({counts}); labels: {sources}", err=True)
    return data


def lemmatise_with_bar(texts, quiet: bool) -> None:
    """Fills the current lemma session for ``texts``, with a progress bar."""
    from .nlp import current_session, session_lemmas

    session = current_session()
    missing = len(set(texts) - set(session.memo))
    with progress_bar(missing, "Lemmatising", quiet) as bar:
        session.progress = bar.update
        session_lemmas(texts)
        session.progress = None


def _f(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def write_evaluation_table(handle: IO[str], evaluation: dict) -> None:
    out = lambda line="": handle.write(line + "\n")  # noqa: E731
    labels = evaluation["labels"]
    cv = evaluation["cross_validation"]
    out(f"{evaluation['candidate']}: {cv['n_splits']}-fold cross-validation grouped by interview "
        f"({evaluation['n_passages']} passages, {evaluation['n_documents']} interviews)")
    out(f"Macro-F1 {_f(evaluation['macro_f1'])} (fold mean {_f(evaluation['macro_f1_fold_mean'])}, sd {_f(evaluation['macro_f1_fold_sd'])}), "
        f"accuracy {_f(evaluation['accuracy'])}, Cohen's kappa against the labels {_f(evaluation['kappa'])}")
    out()
    rows = [[label, _f(v["precision"]), _f(v["recall"]), _f(v["f1"]), str(v["support"])] for label, v in evaluation["per_label"].items()]
    write_table(handle, rows, ["label", "precision", "recall", "F1", "passages"])
    out()
    out("Confusion (rows: labels of the coders, columns: predicted):")
    width = max(len(label) for label in labels) + 2
    out(" " * width + "".join(label.rjust(width) for label in labels))
    for label, row in zip(labels, evaluation["confusion"]["matrix"]):
        out(label.ljust(width) + "".join(str(v).rjust(width) for v in row))
    out()
    out("Folds:")
    for number, fold in enumerate(evaluation["folds"], 1):
        out(f"  {number}. macro-F1 {_f(fold['macro_f1'])} on {fold['n_passages']} passages of {', '.join(fold['test_docs'])}")
    if evaluation.get("learning_curve"):
        out()
        out("Learning curve (macro-F1 on the same test folds, training on N interviews):")
        for point in evaluation["learning_curve"]:
            bar = "█" * round(point["macro_f1"] * 40)
            out(f"  {point['train_interviews']:>4}  {_f(point['macro_f1'])} ± {_f(point['sd'])}  {bar}")
    calibration = evaluation.get("calibration")
    if calibration and "log_loss" in calibration:
        out()
        out(f"Probabilities: log-loss {_f(calibration['log_loss'])}, Brier {_f(calibration['brier'])}, "
            f"expected calibration error {_f(calibration['expected_calibration_error'])} (held-out folds)")


@main.command()
@data_option
@click.option("--model-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("models") / "default", show_default=True,
              help="Where to write the model; a model already there is moved to archive/ beside it.")
@click.option("--folds", "n_splits", type=click.IntRange(2, 20), default=5, show_default=True, help="Folds of the grouped cross-validation.")
@codebook_option
@cache_options
@quiet_option
def train(data_paths, model_dir, n_splits, codebook, n_process, cache_dir, no_cache, quiet):
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
    """
    from .model import CANDIDATES, build_manifest, compare_with_previous, read_manifest, save_model
    from .model import train as train_model
    from .nlp import lemma_session

    data = read_training_data(data_paths, codebook, quiet)
    previous = None
    if (model_dir / "manifest.json").exists():
        try:
            previous = read_manifest(model_dir)
        except EthosError as error:
            warnings.warn(f"the previous model cannot be compared: {error}")
    report = (lambda message: None) if quiet else (lambda message: click.echo(message, err=True))
    with lemma_session(make_cache(cache_dir, no_cache), n_process=n_process):
        lemmatise_with_bar(data.texts, quiet)
        training = train_model(data, candidates=CANDIDATES, n_splits=n_splits, report=report)
    manifest = build_manifest(training)
    if previous is not None:
        manifest["previous"] = compare_with_previous(previous, training)
    archived = save_model(training.model, manifest, model_dir)

    click.echo()
    click.echo("Candidates (grouped cross-validation, macro-F1 over all out-of-fold predictions):")
    rows = [[("* " if c.get("chosen") else "  ") + c["candidate"], _f(c["macro_f1"]), _f(c["macro_f1_fold_sd"]), f"{c['seconds']:.1f} s"] for c in training.comparison]
    write_table(sys.stdout, rows, ["candidate", "macro-F1", "fold sd", "time"])
    click.echo()
    write_evaluation_table(sys.stdout, training.evaluation)
    if previous is not None:
        change = manifest["previous"]
        click.echo()
        new = ", ".join(f"{label} {n}" for label, n in change["new_per_label"].items())
        click.echo(f"Since the previous model ({change['previous_created']}): {change['new_passages']} new passages ({new}), "
                   f"{change['relabelled_passages']} relabelled, {change['gone_passages']} gone")
        for name, (old, now) in change["figures"].items():
            click.echo(f"  {name:<14} {_f(old)} -> {_f(now)}")
        if change["worse"]:
            warnings.warn(f"the new model's grouped macro-F1 ({_f(change['figures']['macro_f1'][1])}) is lower than the previous model's "
                          f"({_f(change['figures']['macro_f1'][0])}); the previous model is kept in {archived}")
    click.echo()
    click.echo(f"Model written to {model_dir}" + (f"; the previous one is in {archived}" if archived else ""))


@main.command()
@data_option
@model_option
@click.option("--folds", "n_splits", type=click.IntRange(2, 20), default=5, show_default=True, help="Folds of the grouped cross-validation.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--no-learning-curve", is_flag=True, help="Skip the learning curve (faster).")
@codebook_option
@cache_options
@output_options
@quiet_option
def evaluate(data_paths, model_dir, n_splits, fmt, no_learning_curve, codebook, n_process, cache_dir, no_cache, output, force, quiet):
    """Cross-validate the model's configuration on annotated passages, grouped by interview.

    No interview has passages on both sides of a fold. Gives macro-F1, per-label precision, recall
    and F1, the confusion matrix, Cohen's kappa against the coders' labels, each fold's figures and a
    learning curve (F1 as the number of training interviews grows: still rising means more coding
    would help). The configuration is the one recorded in MODEL's manifest (nothing is loaded from
    its model.joblib).

    \b
    Examples:
      ethos evaluate
      ethos evaluate --data data/annotated --format json -o evaluation.json
    """
    from .model import DEFAULT_CANDIDATE, Candidate, evaluate as evaluate_model, read_manifest
    from .nlp import lemma_session

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
    data = read_training_data(data_paths, codebook, quiet)
    with lemma_session(make_cache(cache_dir, no_cache), n_process=n_process):
        lemmatise_with_bar(data.texts, quiet)
        evaluation = evaluate_model(data, candidate, n_splits=n_splits, with_learning_curve=not no_learning_curve)
    write_json_or_table(output, force, fmt, evaluation, write_evaluation_table)


def _features_text(explanation: dict, count: int = 3) -> str:
    return "; ".join(f"{f['feature']} {f['contribution']:+.2f}" for f in explanation["features"][:count])


@main.command()
@paths_argument
@model_option
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--top", type=click.IntRange(1, 100), default=5, show_default=True, help="Features listed in each explanation and summary.")
@segment_options
@cache_options
@output_options
@quiet_option
def score(paths, model_dir, fmt, top, interviewers, speakers, max_words, min_words, n_process, cache_dir, no_cache, output, force, quiet):
    """Label each passage of transcripts with the model, and explain the label.

    For every passage: the label with the highest decision score, every label's score and
    calibrated probability, and the features that weighed most, exactly (intercept + contributions
    + rest = score). For every transcript: passages and share per label, mean probabilities and the
    features that weighed most. PATH is a transcript or a passage table (.csv, .jsonl with `text`).

    \b
    Examples:
      ethos score data/examples/exemple01.txt
      ethos score entretiens/ --format csv -o scores.csv
      ethos score entretien.docx --format json --top 10 -o scores.json
    """
    from .explain import score_documents
    from .inputs import read_inputs
    from .model import load_model
    from .nlp import lemma_session
    from .tables import write_csv

    model_dir = model_dir or default_model_dir()
    model = load_model(model_dir)
    inputs = read_inputs(paths, segment_settings(interviewers, speakers, max_words, min_words))
    report_segmentation(inputs, quiet)
    with lemma_session(make_cache(cache_dir, no_cache), n_process=n_process):
        lemmatise_with_bar([p.clean for p in inputs.passages], quiet)
        documents = score_documents(model, inputs.passages, top)
    with opened_output(output, force) as handle:
        if fmt == "json":
            # json.dumps, unlike json.dump, uses the C encoder: a second saved on a large run
            handle.write(json.dumps({"model": {"path": str(model_dir), "labels": model.labels, "sha256": model.manifest["sha256"], "created": model.manifest.get("created")},
                                     "documents": documents}, ensure_ascii=False))
            handle.write("\n")
        elif fmt == "csv":
            rows = []
            for document in documents:
                for passage in document["passages"]:
                    row = {k: passage[k] for k in ("doc_id", "passage_id", "speaker", "start", "end", "label", "probability", "text")}
                    row.update({f"score_{label}": passage["scores"][label] for label in model.labels})
                    row.update({f"p_{label}": passage["probabilities"][label] for label in model.labels})
                    row["features"] = _features_text(passage["explanation"], top)
                    rows.append(row)
            columns = ["doc_id", "passage_id", "speaker", "start", "end", "label", "probability"]
            columns += [f"p_{label}" for label in model.labels] + [f"score_{label}" for label in model.labels] + ["features", "text"]
            write_csv(handle, rows, columns)
        else:
            write_score_table(handle, documents, model.labels)


def write_score_table(handle: IO[str], documents: list[dict], labels: list[str]) -> None:
    from .codebook import load_codebook

    titles = {label.name: label.title_fr for label in load_codebook().labels}
    for document in documents:
        rows = []
        for passage in document["passages"]:
            rows.append([passage["passage_id"], passage["label"], f"{passage['probability']:.2f}", _features_text(passage["explanation"]),
                         " ".join(passage["text"].split())])
        write_table(handle, rows, ["passage", "label", "p", "features that weighed most", "text"])
        summary = document["summary"]
        handle.write(f"\n{document['doc_id']}: {summary['passages']} passages\n")
        for label in labels:
            figures = summary["labels"][label]
            features = ", ".join(f["feature"] for f in summary["top_features"][label][:6]) or "-"
            title = titles.get(label, label)
            handle.write(f"  {label:<8} {figures['passages']:>4}  {figures['share']:>4.0%}  mean p {figures['mean_probability']:.2f}  ({title}: {features})\n")
        handle.write("\n")


@main.command()
@model_option
@click.option("--top", type=click.IntRange(1, 500), default=15, show_default=True, help="Features per label.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--examples/--no-examples", default=True, show_default=True, help="Show, for each feature, the annotated passage where it weighs most (read from --data).")
@data_option
@codebook_option
@cache_options
@output_options
@quiet_option
def features(model_dir, top, fmt, examples, data_paths, codebook, n_process, cache_dir, no_cache, output, force, quiet):
    """The lemma n-grams that weigh most towards each label.

    A feature's weight is the classifier's coefficient for it (for naive Bayes, relative to the other
    labels). With examples (the default, when annotation files are at hand), each feature comes with
    the passage of that label where it weighs most.

    \b
    Examples:
      ethos features
      ethos features --top 30 --format json -o features.json
    """
    from .explain import feature_examples, top_features
    from .model import load_model
    from .nlp import lemma_session

    model_dir = model_dir or default_model_dir()
    model = load_model(model_dir)
    result = top_features(model, top)
    data_given = list(data_paths) or [p for p in [Path("data") / "annotated"] if p.is_dir()]
    if examples and data_given:
        data = read_training_data(data_given, codebook, True)
        with lemma_session(make_cache(cache_dir, no_cache), n_process=n_process):
            lemmatise_with_bar(data.texts, quiet)
            feature_examples(model, data.texts, data.labels, result)
    with opened_output(output, force) as handle:
        if fmt == "json":
            json.dump({"model": {"path": str(model_dir), "labels": model.labels}, "features": result}, handle, ensure_ascii=False, indent=1)
            handle.write("\n")
        else:
            for label, rows in result.items():
                handle.write(f"{label}\n")
                write_table(handle, [[f"{r['weight']:+.2f}", r["feature"], " ".join((r.get("example") or "").split())] for r in rows], ["weight", "feature", "example"])
                handle.write("\n")


if __name__ == "__main__":
    main()
