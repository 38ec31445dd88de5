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
      ethos segment interview.docx
      ethos lemmatize data/transcripts/ent01.txt --format jsonl -o lemmas.jsonl
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
            json.dump({"passages": records, "documents": [s.__dict__ for s in inputs.stats]}, handle, ensure_ascii=False, indent=1)
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
@output_options
def agreement(paths, fmt, disagreements_file, resamples, seed, codebook, output, force):
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
    """
    from .agreement import agreement_report, disagreements, reliability_from_codings
    from .annotations import read_codings
    from .codebook import load_codebook

    labels = load_codebook(codebook).names
    codings = read_codings(paths, labels)
    data, gold = reliability_from_codings(codings, labels)
    report = agreement_report(data, gold=gold, resamples=resamples, seed=seed)
    if disagreements_file:
        write_disagreements(disagreements_file, force, data, codings)
    with opened_output(output, force) as handle:
        if fmt == "json":
            json.dump(report, handle, ensure_ascii=False, indent=1)
            handle.write("\n")
        else:
            write_agreement_table(handle, report)


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
    for note in report["notes"]:
        out(f"Note: {note}")
    out()
    out("Reading guide (Krippendorff): alpha >= 0.800 reliable; 0.667 to 0.800 for tentative conclusions only;")
    out("below 0.667, the coding is not reliable enough to draw conclusions from.")


if __name__ == "__main__":
    main()
