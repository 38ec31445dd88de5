"""`ethos score`, `ethos features` and `ethos suggest`: the model at work on transcripts."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import IO

import click

from ..render.table import _features_text, write_score_table, write_table
from .options import ANNOTATED, annotation_files_read, cache_options, codebook_option, data_option, default_model_dir, excel_option, lemmatise_with_bar, make_cache, model_option, opened_output, output_options, paths_argument, quiet_option, read_training_data, refuse_existing, report_segmentation, segment_options, segment_settings, transcript_files, write_plot
from .group import main


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
    from ..explain import score_documents
    from ..inputs import read_inputs
    from ..model.saving import load_model
    from ..nlp import lemma_session
    from ..tables import write_csv

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
    from ..codebook import load_codebook
    from ..names import report_name_patterns
    from ..nlp import session_lemmas
    from ..report import render_report

    passages = inputs.passages
    tokens = dict(zip(((p.doc_id, p.passage_id) for p in passages), session_lemmas([p.clean for p in passages])))
    names = None if show_names else report_name_patterns(documents, passages, tokens, inputs.documents, model.known_words())
    info = {"labels": model.labels, "created": model.manifest.get("created"), "evaluation": model.manifest.get("evaluation"),
            "candidate": (model.manifest.get("model") or {}).get("candidate")}
    interviewers = {stats.doc_id: stats.interviewers for stats in inputs.stats}
    return render_report(documents, inputs.documents, interviewers, load_codebook(), info, tokens, model.keeps_function_words, names)


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
    from ..explain import feature_examples, top_features
    from ..model.saving import load_model
    from ..nlp import lemma_session

    model_dir = model_dir or default_model_dir()
    model = load_model(model_dir)
    result = top_features(model, top)
    data_given = list(data_paths) or [p for p in [Path("data") / "annotated"] if p.is_dir()]
    if examples and data_given:
        data = read_training_data(data_given, codebook, True)
        with lemma_session(make_cache(cache_dir, no_cache), n_process=n_process):
            lemmatise_with_bar(data.texts, quiet)
            speech = data.speech()  # an edited copy of the contrast layer is nobody's words: no example
            feature_examples(model, [t for t, spoken in zip(data.texts, speech) if spoken],
                             [label for label, spoken in zip(data.labels, speech) if spoken], result)
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
        from ..plots import plot_features

        write_plot(plot_features, result, plot, codebook, quiet)


def write_qdpx_output(handle: IO[str], documents: list[dict], inputs) -> None:
    """`score --format qdpx`: the project goes to the binary side of the file `opened_output` gave."""
    from ..codebook import load_codebook
    from ..qdpx import write_project

    if handle is sys.stdout:
        raise click.UsageError("--format qdpx writes a binary file: give it with -o FILE (for example -o predicted.qdpx)")
    handle.flush()
    write_project(handle.buffer, documents, {doc_id: document.raw for doc_id, document in inputs.documents.items()}, load_codebook())


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
    from ..inputs import read_inputs
    from ..model.saving import load_model
    from ..nlp import lemma_session
    from ..suggest import ANNOTATION_COLUMNS, Coded, annotation_rows, coded_passages
    from ..suggest import suggest as suggest_passages
    from ..tables import write_csv, write_jsonl

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
