"""`ethos agreement`: inter-coder agreement, the model as one more coder, disagreements to adjudicate."""

from __future__ import annotations

from pathlib import Path

import click

from ..render.table import write_agreement_table
from .options import annotation_files_read, cache_options, excel_option, make_cache, opened_output, output_options, refuse_existing, write_json_or_table
from ..errors import EthosError
from .group import main


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
    from ..agreement import agreement_report, reliability_from_codings
    from ..annotations import read_codings
    from ..codebook import load_codebook

    book = load_codebook(codebook)
    labels = book.names
    codings = read_codings(paths, labels, book.aliases)
    from ..model.data import codings_of_layers, speech_codings

    # the contrast layer's edited copies are nobody's speech: left out unless asked for by --layer
    codings = codings_of_layers(codings, set(layers), metadata) if layers else speech_codings(codings)
    if model_dir is not None:
        from ..model.coder import MODEL_CODER, model_codings
        from ..nlp import lemma_session

        if any(c.coder == MODEL_CODER for c in codings):
            raise EthosError(f"a coder in the annotation files is already named '{MODEL_CODER}'; rename it to compare with --model")
        with lemma_session(make_cache(cache_dir, no_cache), n_process=n_process):
            codings = codings + model_codings(model_dir, codings)
    data, gold = reliability_from_codings(codings, labels)
    report = agreement_report(data, gold=gold, resamples=resamples, seed=seed)
    if model_dir is not None:
        from ..model.coder import model_versus_coders

        report["model"] = model_versus_coders(report, codings, labels, resamples, seed)
    if disagreements_file:
        write_disagreements(disagreements_file, force, data, codings)
    write_json_or_table(output, force, fmt, report, write_agreement_table)


def write_disagreements(path: Path, force: bool, data, codings) -> None:
    """The passages to adjudicate, as an annotation file (JSON Lines for a .jsonl path, else CSV)."""
    from ..agreement import disagreement_sheet
    from ..tables import write_csv, write_jsonl

    rows, columns, settled = disagreement_sheet(data, codings)
    with opened_output(path, force) as handle:
        if path.suffix.lower() == ".jsonl":
            write_jsonl(handle, rows)
        else:
            write_csv(handle, rows, columns)
    already = f" ({settled} more that coders disagree on have a gold label already)" if settled else ""
    click.echo(f"{len(rows)} passages to adjudicate written to {path}{already}", err=True)
