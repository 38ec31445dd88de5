"""Build data/annotated/coder_a.csv from the authors' turn-by-turn coding (data/authoring/*.tsv).

Coder A is the author of each interview: while writing it, the author recorded a label for every
interviewee turn. This script segments each transcript with `ethos` and gives each passage the label of
the turn it comes from, checking that the turns line up (same count, same first words).
"""

import csv
import re
import sys
from pathlib import Path

from ethos.cleaning import clean
from ethos.readers import read_transcript
from ethos.segment import segment
from ethos.speakers import PSEUDO_SPEAKERS
from ethos.text import fold

DATA = Path(__file__).resolve().parent.parent


def words(text: str) -> list[str]:
    text = clean(text)
    return re.findall(r"\w+", text.lower())


def by_passage(doc_id: str, passages, labels: list[dict], rows: list[dict]) -> int:
    """Coder A's rows for a document coded passage by passage; the ``hard`` tags go into the note."""
    if [p.passage_id for p in passages] != [row["passage_id"].strip() for row in labels]:
        print(f"{doc_id}: {len(passages)} passages, {len(labels)} coded, or not the same ids", file=sys.stderr)
        return 1
    problems = 0
    for passage, row in zip(passages, labels):
        expected = words(row["first_words"])[:4]
        if words(passage.text)[:len(expected)] != expected:
            print(f"{doc_id}, {passage.passage_id}: coded {expected}, transcript {words(passage.text)[:4]}", file=sys.stderr)
            problems += 1
        hard = (row.get("hard") or "").strip()
        note = (row.get("note") or "").strip() + (f" [hard: {hard}]" if hard else "")
        rows.append({
            "doc_id": passage.doc_id, "passage_id": passage.passage_id, "text": passage.text, "label": row["label"].strip(),
            "coder": "A", "start": passage.start, "end": passage.end, "note": note,
        })
    return problems


def main() -> None:
    rows = []
    problems = 0
    for transcript in sorted((DATA / "transcripts").glob("*.txt")):
        coding = DATA / "authoring" / f"{transcript.stem}.tsv"
        if not coding.exists():
            print(f"{transcript.stem}: no authoring file", file=sys.stderr)
            problems += 1
            continue
        with open(coding, encoding="utf-8") as handle:
            labels = list(csv.DictReader(handle, delimiter="\t"))
        document = read_transcript(transcript)
        passages, stats = segment(document)
        if labels and "passage_id" in labels[0]:  # the hard layer is coded passage by passage (a turn's stance may shift)
            problems += by_passage(transcript.stem, passages, labels, rows)
            continue
        excluded = {fold(s) for s in stats.interviewers} | PSEUDO_SPEAKERS
        turns = [i for i, t in enumerate(document.turns) if t.speaker and fold(t.speaker) not in excluded]
        if len(turns) != len(labels):
            print(f"{transcript.stem}: {len(turns)} interviewee turns, {len(labels)} coded", file=sys.stderr)
            problems += 1
            continue
        label_of = {}
        for index, row in zip(turns, labels):
            turn = document.turns[index]
            expected = words(row["first_words"])[:4]
            found = words(document.raw[turn.start:turn.end])[:len(expected)]
            if expected != found:
                print(f"{transcript.stem}, turn {row['turn']}: coded {expected}, transcript {found}", file=sys.stderr)
                problems += 1
            label_of[index] = (row["label"].strip(), row.get("note", "").strip())
        for passage in passages:
            label, note = label_of[passage.turn]
            rows.append({
                "doc_id": passage.doc_id, "passage_id": passage.passage_id, "text": passage.text,
                "label": label, "coder": "A", "start": passage.start, "end": passage.end, "note": note,
            })
    out = DATA / "annotated" / "coder_a.csv"
    with open(out, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["doc_id", "passage_id", "text", "label", "coder", "start", "end", "note"])
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} passages coded by A written to {out}; {problems} problems", file=sys.stderr)


if __name__ == "__main__":
    main()
