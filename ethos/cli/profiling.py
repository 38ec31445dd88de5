"""`ethos profile`: the ethos of each interviewee, and the difference between positions."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import click

from ..render.table import profile_columns, profile_rows, write_profile_table
from .options import ANNOTATED, DEFAULT_METADATA, annotation_files_read, cache_options, codebook_option, default_model_dir, excel_option, lemmatise_with_bar, make_cache, model_option, opened_output, output_options, quiet_option, read_training_data, refuse_existing, report_segmentation, segment_options, segment_settings, transcript_files, write_plot
from .group import main


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
    from ..codebook import load_codebook
    from ..profile import are_annotation_files, ethos_profile, read_positions
    from ..tables import write_csv

    positions = read_positions(metadata)
    if label_source == "auto":
        label_source = "coded" if not paths or are_annotation_files(paths) else "model"
        if label_source == "coded" and model_dir is not None:
            warnings.warn("--model is not used for the coders' labels; add --labels model to label the passages with the model")
    source = {"labels": label_source, "paths": [str(p) for p in paths], "metadata": str(metadata)}
    if label_source == "coded":
        from ..model.data import CONTRAST_LAYER

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
        from ..plots import plot_profile

        write_plot(plot_profile, result, plot, codebook, quiet)


def model_labels(paths, model_dir: Path, settings, cache, n_process: int, quiet: bool) -> tuple[list[str], list[str], list[str]]:
    """Passages of transcripts or passage tables, labelled by the model: doc_ids, labels, the model's labels."""
    from ..inputs import read_inputs
    from ..model.saving import load_model
    from ..nlp import lemma_session

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
