"""Options and helpers shared by the commands: paths, outputs written safely, progress, defaults."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Callable, Iterator, Sequence

import click

from ..errors import EthosError


def paths_argument(function: Callable) -> Callable:
    return click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))(function)


def output_options(function: Callable) -> Callable:
    function = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE instead of standard output.")(function)
    function = click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")(function)
    return function


def _set_french_excel(context, parameter, value: bool) -> bool:
    from ..tables import FRENCH_EXCEL

    FRENCH_EXCEL.set(bool(value))
    return value


def excel_option(function: Callable) -> Callable:
    return click.option("--excel", is_flag=True, expose_value=False, envvar="ETHOS_EXCEL", callback=_set_french_excel,
                        help="CSV for French Excel: semicolons between cells, decimal commas (also ETHOS_EXCEL=1).")(function)


def segment_options(function: Callable) -> Callable:
    from ..segment import MAX_WORDS, MIN_WORDS

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
    from ..inputs import expand_paths

    try:
        return expand_paths([p for p in paths if str(p) != "-"])
    except EthosError:
        return [Path(p) for p in paths if Path(p).is_file()]  # the command says what is wrong with the rest


def annotation_files_read(paths: Sequence[Path]) -> list[Path]:
    """The annotation files a command reads from ``paths`` (a folder: every .csv and .jsonl under it)."""
    from ..annotations import annotation_files

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
    from ..textio import atomic_write

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
    from ..segment import SegmentOptions

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


def make_cache(cache_dir: Path | None, no_cache: bool):
    from ..nlp import LemmaCache

    return None if no_cache else LemmaCache(cache_dir)


def default_model_dir() -> Path:
    """`models/default` under the current folder when there is one, else the shipped model: inside the
    installed package (``ethos/shipped_model``), or ``models/default`` of the checkout ethos runs from."""
    local = Path("models") / "default"
    if (local / "manifest.json").exists():
        return local
    package = Path(__file__).resolve().parent.parent  # ethos/
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
    from ..checks import read_checks

    if not check_paths and not DEFAULT_CHECKS.is_dir():
        return []
    return read_checks(list(check_paths) or [DEFAULT_CHECKS], labels)


def codebook_option(function: Callable) -> Callable:
    return click.option("--codebook", type=click.Path(dir_okay=False, path_type=Path), envvar="ETHOS_CODEBOOK",
                        help="Codebook (TOML) whose labels coders may use [default: data/codebook.toml if present, else manager, artisan, other].")(function)


def read_training_data(data_paths, codebook, quiet: bool, metadata: Path | None = None, *, for_training: bool = True):
    """:func:`ethos.model.data.load_training_data`, with a line saying what was read (unless ``quiet``)."""
    from ..model.data import load_training_data

    data = load_training_data(list(data_paths) or [ANNOTATED], codebook, metadata, for_training=for_training)
    if not quiet:
        counts = ", ".join(f"{label} {n}" for label, n in data.label_counts().items())
        sources = ", ".join(f"{n} by {source}" for source, n in data.sources.items())
        click.echo(f"{len(data.labels)} labelled passages from {len(data.documents)} interviews ({counts}); labels: {sources}", err=True)
    return data


def lemmatise_with_bar(texts, quiet: bool) -> None:
    """Fills the current lemma session for ``texts``, with a progress bar."""
    from ..nlp import current_session, session_lemmas

    session = current_session()
    missing = len(set(texts) - set(session.memo))
    with progress_bar(missing, "Lemmatising", quiet) as bar:
        session.progress = bar.update
        session_lemmas(texts)
        session.progress = None


def write_plot(draw: Callable, data: dict, path: Path, codebook: Path | None, quiet: bool) -> None:
    """Draw ``data`` to the PNG ``path`` with a function of :mod:`ethos.plots`, in the codebook's colours."""
    from ..codebook import load_codebook

    try:
        draw(data, path, load_codebook(codebook))
    except OSError as error:
        raise EthosError(f"{path}: cannot be written ({error.strerror or error})") from None
    if not quiet:
        click.echo(f"Chart written to {path}", err=True)


DEFAULT_METADATA = Path("data") / "transcripts" / "metadata.csv"


def parse_code_mapping(ctx, param, values) -> dict[str, str]:
    """``--map CODE=LABEL`` options as a dictionary (the label is lower-cased, as codebook labels are)."""
    mapping = {}
    for value in values:
        code, separator, label = value.rpartition("=")
        if not separator or not code.strip() or not label.strip():
            raise click.BadParameter(f"'{value}' is not CODE=LABEL", ctx, param)
        mapping[code.strip()] = label.strip().lower()
    return mapping
