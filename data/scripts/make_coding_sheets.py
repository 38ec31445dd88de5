"""Prepare the blind coding sheets for coders B and C, and turn their returned labels into annotation files.

    python data/scripts/make_coding_sheets.py sheets OUTDIR   # writes B.tsv, C.tsv (unit, text) and data/coding/keys.csv
    python data/scripts/make_coding_sheets.py collect          # data/coding/returned/{B,C}*_labels.tsv -> data/annotated/coder_{b,c}.csv
    python data/scripts/make_coding_sheets.py revisions OLD_CODER_A.CSV DATE   # passages revised since OLD_CODER_A.CSV

A passage revised after it was coded is listed in data/coding/revisions.csv with the unit it had: that
unit's labels (of the old text) stay in the returned files but are no longer collected, and the next
`sheets` gives the revised passage a new unit, coded blind like any other.

Coders see only the codebook and the passages, under opaque unit numbers, in a random order: no
interview, no speaker, no metadata, no other coder's label. B codes every passage; C a random 30% of
the first layer (batches 1 and 2) and every passage of the hard layer (batches 3 on).
Their returned files are kept as they are under data/coding/returned/.
"""

import csv
import random
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent
SEED = 20261123


def superseded() -> set[str]:
    """Units whose passage was revised after they were coded (data/coding/revisions.csv): their labels
    are of a text that no longer exists, so they are kept as returned but no longer collected."""
    path = DATA / "coding" / "revisions.csv"
    if not path.exists():
        return set()
    with open(path, encoding="utf-8", newline="") as handle:
        return {row["superseded_unit"] for row in csv.DictReader(handle)}


def passages() -> list[dict]:
    with open(DATA / "annotated" / "coder_a.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def sheets(outdir: Path) -> None:
    """Sheets for the passages that have no unit number yet (a new batch), keys appended."""
    rows = passages()
    keys_path = DATA / "coding" / "keys.csv"
    keys: list[dict] = []
    if keys_path.exists():
        with open(keys_path, encoding="utf-8", newline="") as handle:
            keys = list(csv.DictReader(handle))
    stale = superseded()
    known = {(k["doc_id"], k["passage_id"]) for k in keys if k["unit"] not in stale}
    new = [r for r in rows if (r["doc_id"], r["passage_id"]) not in known]
    batch = len(list((DATA / "coding" / "returned").glob("B*_labels.tsv"))) + 1
    rng = random.Random(SEED + batch)
    rng.shuffle(new)
    start = len(keys) + 1
    batch_keys = [{"unit": f"u{start + i:04d}", "doc_id": r["doc_id"], "passage_id": r["passage_id"]} for i, r in enumerate(new)]
    (DATA / "coding").mkdir(exist_ok=True)
    with open(keys_path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["unit", "doc_id", "passage_id"])
        writer.writeheader()
        writer.writerows(keys + batch_keys)
    text = {(r["doc_id"], r["passage_id"]): r["text"] for r in rows}
    # the first layer: C codes a random 30%; the hard layer (batch 3) and revised passages (batch 4 on): B and C code every passage
    share = 0.3 if batch <= 2 else 1.0
    sample = sorted(rng.sample(range(len(batch_keys)), round(share * len(batch_keys))))
    for coder, chosen in (("B", range(len(batch_keys))), ("C", sample)):
        with open(outdir / f"{coder}{batch}.tsv", "w", encoding="utf-8") as handle:
            handle.write("unit\ttext\n")
            for i in chosen:
                key = batch_keys[i]
                passage = " ".join(text[(key["doc_id"], key["passage_id"])].split())
                handle.write(f"{key['unit']}\t{passage}\n")
    print(f"batch {batch}: {len(batch_keys)} units; C codes {len(sample)}", file=sys.stderr)


def collect() -> None:
    with open(DATA / "coding" / "keys.csv", encoding="utf-8", newline="") as handle:
        keys = {row["unit"]: row for row in csv.DictReader(handle)}
    stale = superseded()
    by_id = {(r["doc_id"], r["passage_id"]): r for r in passages()}
    for coder in ("b", "c"):
        out = []
        for returned in sorted((DATA / "coding" / "returned").glob(f"{coder.upper()}*_labels.tsv")):
            with open(returned, encoding="utf-8") as handle:
                for row in csv.DictReader(handle, delimiter="\t"):
                    if row["unit"].strip() in stale:
                        continue
                    key = keys[row["unit"].strip()]
                    passage = by_id[(key["doc_id"], key["passage_id"])]
                    out.append({
                        "doc_id": key["doc_id"], "passage_id": key["passage_id"], "text": passage["text"],
                        "label": row["label"].strip(), "coder": coder.upper(), "start": passage["start"], "end": passage["end"],
                        "note": (row.get("note") or "").strip(),
                    })
        out.sort(key=lambda r: (r["doc_id"], r["passage_id"]))
        with open(DATA / "annotated" / f"coder_{coder}.csv", "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["doc_id", "passage_id", "text", "label", "coder", "start", "end", "note"])
            writer.writeheader()
            writer.writerows(out)
        print(f"coder {coder.upper()}: {len(out)} passages", file=sys.stderr)


def revisions(before: Path, date: str) -> None:
    """Record in data/coding/revisions.csv the passages whose text differs between ``before`` (a
    coder_a.csv made before a revision) and data/annotated/coder_a.csv, with the units they had."""
    with open(before, encoding="utf-8", newline="") as handle:
        old = {(r["doc_id"], r["passage_id"]): r["text"] for r in csv.DictReader(handle)}
    with open(DATA / "coding" / "keys.csv", encoding="utf-8", newline="") as handle:
        units = {}
        for row in csv.DictReader(handle):
            units.setdefault((row["doc_id"], row["passage_id"]), []).append(row["unit"])
    path = DATA / "coding" / "revisions.csv"
    rows = list(csv.DictReader(open(path, encoding="utf-8", newline=""))) if path.exists() else []
    stale = {row["superseded_unit"] for row in rows}
    added = 0
    for row in passages():
        key = (row["doc_id"], row["passage_id"])
        if key in old and old[key] != row["text"]:
            for unit in units.get(key, []):
                if unit not in stale:
                    rows.append({"doc_id": key[0], "passage_id": key[1], "superseded_unit": unit, "revised": date})
                    added += 1
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["doc_id", "passage_id", "superseded_unit", "revised"])
        writer.writeheader()
        writer.writerows(rows)
    print(f"{added} units superseded by revised passages", file=sys.stderr)


if __name__ == "__main__":
    if sys.argv[1:2] == ["revisions"]:
        revisions(Path(sys.argv[2]), sys.argv[3])
    elif sys.argv[1:2] == ["sheets"]:
        sheets(Path(sys.argv[2]))
    elif sys.argv[1:2] == ["collect"]:
        collect()
    else:
        sys.exit(__doc__)
