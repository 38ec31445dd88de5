"""Reading and writing tables of passages: CSV (comma or semicolon, as French Excel writes) and JSONL."""

from __future__ import annotations

import csv
import io
import json
import numbers
import sys
from contextvars import ContextVar
from pathlib import Path
from typing import IO, Iterable, Sequence

from .errors import InputError
from .textio import read_text

TABLE_SUFFIXES = (".csv", ".jsonl")


#: The delimiter of a table of one column, whose header has none: a control character no text holds,
#: so that the commas and semicolons of its cells stay inside them.
_ONE_COLUMN = "\x1f"


def sniff_delimiter(header: str) -> str:
    """``;`` when the header line has more semicolons than commas (French Excel), ``,`` when it has
    commas, and none for a header of one column."""
    if ";" not in header and "," not in header:
        return _ONE_COLUMN
    return ";" if header.count(";") > header.count(",") else ","


def read_rows(path: Path) -> list[tuple[int, dict]]:
    """The rows of a CSV or JSONL file as ``(line number, row)``; keys are the column names, lower-cased."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise InputError(f"{path}: not a table (expected .csv or .jsonl)")
    text, _ = read_text(path)
    if not text.strip():
        raise InputError(f"{path}: the file is empty")
    if suffix == ".jsonl":
        return list(_jsonl_rows(path, text))
    return list(_csv_rows(path, text))


def _jsonl_rows(path: Path, text: str) -> Iterable[tuple[int, dict]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"{path}, line {number}: not valid JSON ({error.msg})") from None
        if not isinstance(row, dict):
            raise InputError(f"{path}, line {number}: each line must be a JSON object")
        yield number, {str(k).strip().lower(): _scalar(v) for k, v in row.items()}


def _scalar(value):
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value if isinstance(value, str) else str(value)


def _csv_rows(path: Path, text: str) -> Iterable[tuple[int, dict]]:
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(first_line))
    try:
        header = next(reader)
    except csv.Error as error:
        raise InputError(f"{path}, line 1: malformed CSV ({error})") from None
    columns = [c.strip().lstrip("\ufeff").lower() for c in header]
    if len(set(columns)) != len(columns):
        raise InputError(f"{path}, line 1: a column name appears twice")
    try:
        for row in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(columns):
                raise InputError(f"{path}, line {number}: {len(row)} cells for {len(columns)} columns (a field with the delimiter needs quotes)")
            row = row + [""] * (len(columns) - len(row))
            yield number, dict(zip(columns, (restore(cell) for cell in row)))
    except csv.Error as error:
        raise InputError(f"{path}, line {reader.line_num}: malformed CSV ({error})") from None


def require_columns(path: Path, rows: Sequence[tuple[int, dict]], columns: Sequence[str]) -> None:
    """Refuse a table that lacks any of ``columns``, naming them."""
    present = set(rows[0][1]) if rows else set()
    missing = [c for c in columns if c not in present]
    if missing:
        found = ", ".join(name.encode("unicode_escape").decode("ascii") if not name.isprintable() else name for name in sorted(present))
        raise InputError(f"{path}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} (found: {found or 'none'})")


#: Cells starting with these run as formulas in spreadsheets (CSV injection): they get a leading quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value) -> str:
    """A cell a spreadsheet shows as text, never runs: ``=SUM(A1)`` becomes ``'=SUM(A1)``.

    Text that already starts with quotes before such a character gets one more, so that
    :func:`restore` gives back exactly what was written."""
    text = "" if value is None else str(value)
    return "'" + text if _needs_quote(text) else text


def restore(cell: str) -> str:
    """The inverse of :func:`neutralise`, so that text ethos wrote to a CSV reads back exactly."""
    return cell[1:] if cell.startswith("'") and _needs_quote(cell[1:]) else cell


def _needs_quote(text: str) -> bool:
    unquoted = text.lstrip("'")
    return unquoted.startswith(_FORMULA_START) and not _is_number(unquoted)


def _is_number(text: str) -> bool:
    if "," in text and "." not in text and text.count(",") == 1:
        text = text.replace(",", ".")  # a French decimal comma
    try:
        float(text)
        return True
    except ValueError:
        return False


#: CSV for French Excel (``--excel``, or ``ETHOS_EXCEL=1``): semicolons between cells and decimal
#: commas, which is what Excel on a French system opens in columns and reads as numbers.
FRENCH_EXCEL: ContextVar[bool] = ContextVar("french_excel", default=False)


def _cell(value, french: bool) -> str:
    if french and isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        return repr(float(value)).replace(".", ",")
    return neutralise(value)


def write_csv(handle: IO[str], rows: Iterable[dict], columns: Sequence[str], *, bom: bool | None = None, french: bool | None = None) -> None:
    """CSV with a header, every cell neutralised against formula injection.

    A file (not standard output) starts with a byte-order mark, by which Excel knows the file is
    UTF-8 and shows accents right; every reader in ethos skips it. ``french`` (by default
    :data:`FRENCH_EXCEL`) writes semicolons and decimal commas; ethos reads those files too.
    """
    french = FRENCH_EXCEL.get() if french is None else french
    if bom is None:
        bom = handle is not sys.stdout and not (hasattr(handle, "isatty") and handle.isatty())
    if bom:
        handle.write("\ufeff")
    delimiter = ";" if french else ","
    writer = csv.writer(handle, lineterminator="\n", delimiter=delimiter)
    # with "\n" as line end, the writer would leave a lone "\r" unquoted, and readers would end the line there
    quoting = csv.writer(handle, lineterminator="\n", delimiter=delimiter, quoting=csv.QUOTE_ALL)
    writer.writerow(columns)
    for row in rows:
        cells = [_cell(row.get(c, ""), french) for c in columns]
        (quoting if any("\r" in cell for cell in cells) else writer).writerow(cells)


def write_jsonl(handle: IO[str], rows: Iterable[dict]) -> None:
    for row in rows:
        handle.write(json.dumps(row, ensure_ascii=False) + "\n")
