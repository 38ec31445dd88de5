"""`ethos qdpx-import`: codings of a QDA project (REFI-QDA) as annotation files."""

from __future__ import annotations

from pathlib import Path

import click

from .options import codebook_option, excel_option, opened_output, output_options, parse_code_mapping, quiet_option, refuse_existing
from .group import main


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
    from ..codebook import load_codebook
    from ..qdpx import COLUMNS, read_project
    from ..tables import write_csv, write_jsonl

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
