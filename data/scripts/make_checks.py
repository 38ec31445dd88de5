"""Build the check sets of data/checks/ (see ethos/checks.py for their format).

    python data/scripts/make_checks.py select LAYER N SEED OUT     # passages for flip writers (a JSONL sheet)
    python data/scripts/make_checks.py invariances                 # data/checks/invariance.jsonl from the flipped passages
    python data/scripts/make_checks.py collect                     # data/checks/flips.jsonl from the writers' and coders' files
    python data/scripts/make_checks.py contrast-sheets OUTDIR      # blind sheets for the contrast layer's edited passages
    python data/scripts/make_checks.py contrast-collect            # data/annotated/contrast/contrast.csv (training data)

Flips are written by hand by people who did not write the passage (data/checks/authoring/flips_*.jsonl,
kept as returned), and their labels coded blind by another coder (data/checks/authoring/blind_*.tsv);
a flip whose blind label equals the original's label did not flip and is left out (counted).
Invariances are mechanical edits, seeded: names, places and numbers swapped; another transcription
convention; fillers and hesitations added or removed; the speaker labels of a short transcript restyled.
"""

import csv
import json
import random
import re
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent
CHECKS = DATA / "checks"
AUTHORING = CHECKS / "authoring"
SEED = 20261204


def layers() -> dict[str, str]:
    with open(DATA / "transcripts" / "metadata.csv", encoding="utf-8", newline="") as handle:
        return {row["doc_id"]: row.get("layer") or "base" for row in csv.DictReader(handle)}


def gold() -> dict[tuple[str, str], dict]:
    """Gold rows by (doc_id, passage_id), else coder A's."""
    rows = {}
    for name in ("coder_a.csv", "gold.csv"):
        path = DATA / "annotated" / name
        if path.exists():
            with open(path, encoding="utf-8", newline="") as handle:
                for row in csv.DictReader(handle):
                    rows[(row["doc_id"], row["passage_id"])] = row
    return rows


def select(layer: str, n: int, seed: int, out: Path) -> None:
    """A seeded sample of passages of one layer, stratified by label (manager and artisan first), not yet in a sheet."""
    of_layer = layers()
    taken = set()
    for sheet in AUTHORING.glob("sheet_*.jsonl"):
        for line in sheet.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            taken.add((record["doc_id"], record["passage_id"]))
    rows = [r for key, r in sorted(gold().items()) if of_layer.get(key[0]) == layer and key not in taken and len(r["text"].split()) >= 15]
    rng = random.Random(seed)
    by_label = {label: [r for r in rows if r["label"] == label] for label in ("manager", "artisan", "other")}
    quota = {"manager": round(n * 0.4), "artisan": round(n * 0.4)}
    quota["other"] = n - quota["manager"] - quota["artisan"]
    chosen = []
    for label, k in quota.items():
        chosen += rng.sample(by_label[label], min(k, len(by_label[label])))
    rng.shuffle(chosen)
    with open(out, "w", encoding="utf-8") as handle:
        for r in chosen:
            handle.write(json.dumps({"doc_id": r["doc_id"], "passage_id": r["passage_id"], "label": r["label"], "text": r["text"]}, ensure_ascii=False) + "\n")
    print(f"{len(chosen)} passages of layer {layer} written to {out}", file=sys.stderr)


# --- invariances -----------------------------------------------------------------------------------

FIRST_NAMES = ["Nadia", "Julien", "Odile", "Karim", "Sandrine", "Thierry", "Maëlle", "Yacine", "Brigitte", "Loïc", "Fanny", "Mamadou",
               "Hélène", "Rachid", "Gaëlle", "Pascal", "Inès", "Bernard", "Chloé", "Samir"]
PLACES = ["Angers", "Valence", "Béziers", "Quimper", "Colmar", "Niort", "Laval", "Tarbes", "Vesoul", "Dieppe", "Montluçon", "Agen"]
NUMBER_WORDS = ["deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "douze", "quinze", "vingt", "trente", "quarante", "cinquante"]
FILLERS = ["euh", "ben", "hein", "bon", "voilà", "enfin", "quoi", "bah", "disons"]
_CAPITALISED = re.compile(r"(?<=[a-zà-ÿ,;] )([A-ZÀ-Ý][a-zà-ÿ]+(?:-[A-ZÀ-Ý][a-zà-ÿ]+)?)\b(?![-’'])")
_DIGITS = re.compile(r"\b\d+\b")
_NUMBER_WORD = re.compile(r"(?<![-\w])(" + "|".join(NUMBER_WORDS) + r")(?![-\w])(?!\s+(?:cents?|mille)\b)")
_PLACE_BEFORE = re.compile(r"(?:\b(?:à|de|d’|d'|du|le|la|sur|vers|en|dans|au)\s*)$", re.IGNORECASE)
_FILLER = re.compile(r"\s*\b(?:euh|heu|ben|hein|bon|voilà|bah)\b,?", re.IGNORECASE)


def swap_names(text: str, rng: random.Random) -> str | None:
    """Capitalised words inside a sentence (names, places), digits and number words, swapped for others."""
    mapping: dict[str, str] = {}

    def name(match: re.Match) -> str:
        word = match.group(1)
        if word not in mapping:
            place = _PLACE_BEFORE.search(text[max(0, match.start() - 6):match.start()]) is not None
            pool = [n for n in (PLACES if place else FIRST_NAMES) if n != word and n not in mapping.values()]
            mapping[word] = rng.choice(pool)
        return mapping[word]

    edited = _CAPITALISED.sub(name, text)
    edited = _DIGITS.sub(lambda m: str(int(m.group()) + rng.randint(1, 9)) if len(m.group()) < 4 else str(int(m.group()) + rng.choice([-3, -2, 2, 3])), edited)
    edited = _NUMBER_WORD.sub(lambda m: rng.choice([w for w in NUMBER_WORDS if w != m.group()]), edited)
    return edited if edited != text else None


def restyle(text: str, rng: random.Random) -> str:
    """The passage in another transcription convention."""
    style = rng.choice(["cfpp", "marks", "typography"])
    if style == "cfpp":  # lower case, pauses for punctuation, no capitals but acronyms
        edited = re.sub(r"\s*[.!?…;:]+\s*", " + ", text)
        edited = re.sub(r"\s*,\s*", " ", edited)
        edited = " ".join(w if re.fullmatch(r"[A-ZÀ-Ý]{2,}s?", w) else w.lower() for w in edited.split())
        return edited.replace("’", "'").strip(" +")
    if style == "marks":  # time codes, events and pauses, as transcribers add them
        sentences = re.split(r"(?<=[.!?…])\s+", text)
        marks = ["[rires]", "(.)", "[pause]", "(soupir)", "+", "[tx]"]
        out = []
        for i, sentence in enumerate(sentences):
            out.append(sentence)
            if i < len(sentences) - 1 and rng.random() < 0.6:
                out.append(rng.choice(marks))
        return f"[00:{rng.randint(10, 59)}:{rng.randint(10, 59)}] " + " ".join(out)
    edited = text.replace("’", "'") if "’" in text else text.replace("'", "’")
    edited = re.sub(r"\s+([:;?!])", "\u202f\\1", edited) if rng.random() < 0.5 else re.sub(r"\s*([:;?!])", " \\1", edited)
    return edited.replace("...", "…") if "..." in edited else edited.replace("…", "...")


def fillers(text: str, rng: random.Random) -> str:
    """Fillers and hesitations removed where the passage has some, else added (with a repetition)."""
    if len(_FILLER.findall(text)) >= 2:
        edited = _FILLER.sub("", text)
        return re.sub(r"\s{2,}", " ", re.sub(r"^\s*,?\s*", "", edited)).strip()
    words = text.split(" ")
    for _ in range(max(2, len(words) // 25)):
        # inside a sentence, before a lower-case word: a filler never starts a sentence or splits a name
        places = [i for i in range(1, len(words)) if words[i][:1].islower() and not words[i - 1].endswith((".", "!", "?", "…", ":"))]
        if not places:
            break
        words.insert(rng.choice(places), rng.choice(FILLERS) + ",")
    at = rng.randrange(0, len(words))
    if len(words[at]) <= 4 and words[at].isalpha():
        words.insert(at, words[at])  # « je je », « le le »
    return " ".join(words)


LABEL_STYLES = [("Enquêteur : ", "Mme Durand : ", ""), ("Q : ", "R : ", ""), ("E : ", "I : ", "[00:{m}:{s}] "), ("Julien (ENQ) : ", "Sylvie Moreau : ", ""),
                ("[Enquêtrice] ", "[Sylvie] ", ""), ("ENQ: ", "SM: ", ""), ("Enq. : ", "Directrice : ", "")]
QUESTIONS = ["Et sur ce point, qu'est-ce que vous en pensez ?", "Vous pouvez m'en dire un peu plus ?", "Comment ça se passe, concrètement ?",
             "Et ça, vous le vivez comment ?", "C'est-à-dire ?"]


def mini_transcript(passage: str, style: tuple[str, str, str], question: str, rng: random.Random) -> str:
    asker, answerer, stamp = style
    times = [stamp.format(m=f"{rng.randint(10, 59):02d}", s=f"{rng.randint(10, 59):02d}") for _ in range(4)]
    return (f"{times[0]}{asker}{question}\n\n{times[1]}{answerer}{' '.join(passage.split())}\n\n"
            f"{times[2]}{asker}D'accord.\n\n{times[3]}{answerer}Oui, c'est ça.\n")


def invariances() -> None:
    """Invariance items for every passage that has a flip sheet, seeded per passage."""
    passages = []
    for sheet in sorted(AUTHORING.glob("sheet_*.jsonl")):
        passages += [json.loads(line) for line in sheet.read_text(encoding="utf-8").splitlines()]
    current = gold()
    out = []
    for record in passages:
        key = (record["doc_id"], record["passage_id"])
        label = current[key]["label"] if key in current else record["label"]
        rng = random.Random(f"{SEED}-{key[0]}-{key[1]}")
        base = {"doc_id": key[0], "passage_id": key[1], "original": record["text"], "expected": "", "original_label": label}
        swapped = swap_names(record["text"], rng)
        if swapped:
            out.append({"check_id": f"names-{key[0]}-{key[1]}", "capability": "names", **base, "text": swapped})
        out.append({"check_id": f"convention-{key[0]}-{key[1]}", "capability": "convention", **base, "text": restyle(record["text"], rng)})
        out.append({"check_id": f"fillers-{key[0]}-{key[1]}", "capability": "fillers", **base, "text": fillers(record["text"], rng)})
        first, second = rng.sample(LABEL_STYLES, 2)
        question = rng.choice(QUESTIONS)
        out.append({"check_id": f"speaker-label-{key[0]}-{key[1]}", "capability": "speaker-label", **base, "format": "transcript",
                    "original": mini_transcript(record["text"], first, question, rng), "text": mini_transcript(record["text"], second, question, rng)})
    columns = ["check_id", "capability", "doc_id", "passage_id", "original", "text", "expected", "original_label", "format"]
    with open(CHECKS / "invariance.jsonl", "w", encoding="utf-8") as handle:
        for row in out:
            handle.write(json.dumps({c: row.get(c, "passage" if c == "format" else "") for c in columns}, ensure_ascii=False) + "\n")
    print(f"{len(out)} invariance checks from {len(passages)} passages", file=sys.stderr)

# --- flips -----------------------------------------------------------------------------------------

def collect() -> None:
    """data/checks/flips.jsonl: each written flip with its blind label as the expected one; a flip
    the blind coder gave the original's label did not flip, and is left out (counted)."""
    with open(AUTHORING / "blind_keys.csv", encoding="utf-8", newline="") as handle:
        check_of = {row["unit"]: row["check_id"] for row in csv.DictReader(handle)}
    blind = {}
    for returned in sorted(AUTHORING.glob("blind_*_labels.tsv")):
        with open(returned, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                blind[check_of[row["unit"].strip()]] = (row["label"].strip(), (row.get("note") or "").strip())
    current = gold()
    out, unflipped, off_target, missing = [], [], 0, []
    for path in sorted(AUTHORING.glob("flips_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            flip = json.loads(line)
            if flip["check_id"] not in blind:
                missing.append(flip["check_id"])
                continue
            label, note = blind[flip["check_id"]]
            original = current[(flip["doc_id"], flip["passage_id"])]
            if label == original["label"]:
                unflipped.append(flip["check_id"])
                continue
            off_target += label != flip["intended"]
            out.append({"check_id": flip["check_id"], "capability": "flip", "doc_id": flip["doc_id"], "passage_id": flip["passage_id"],
                        "original": flip["original"], "text": flip["text"], "expected": label, "original_label": original["label"],
                        "format": "passage", "intended": flip["intended"], "note": flip.get("edit", "")})
    with open(CHECKS / "flips.jsonl", "w", encoding="utf-8") as handle:
        for row in out:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(out)} flips written; {len(unflipped)} left out because the blind coder gave the original's label; "
          f"{off_target} kept with a blind label other than the writer's aim; {len(missing)} not coded", file=sys.stderr)


# --- the contrast layer (training data, not checks) --------------------------------------------------

CONTRAST = DATA / "contrast"


def contrast_sheets(outdir: Path) -> None:
    """Blind sheets of the edited passages of data/contrast/flips_*.jsonl not yet given a unit (halves
    of a shuffled batch), and data/contrast/blind_keys.csv."""
    keys_path = CONTRAST / "blind_keys.csv"
    keys = list(csv.DictReader(open(keys_path, encoding="utf-8", newline=""))) if keys_path.exists() else []
    known = {k["check_id"] for k in keys}
    flips = [json.loads(line) for path in sorted(CONTRAST.glob("flips_*.jsonl")) for line in path.read_text(encoding="utf-8").splitlines()]
    new = [f for f in flips if f["check_id"] not in known]
    rng = random.Random(SEED + len(keys))
    rng.shuffle(new)
    start = len(keys) + 1
    batch = [{"unit": f"c{start + i:04d}", "check_id": f["check_id"]} for i, f in enumerate(new)]
    with open(keys_path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["unit", "check_id"])
        writer.writeheader()
        writer.writerows(keys + batch)
    text = {f["check_id"]: f["text"] for f in new}
    half = (len(batch) + 1) // 2
    for name, part in (("E1", batch[:half]), ("E2", batch[half:])):
        with open(outdir / f"{name}.tsv", "w", encoding="utf-8") as handle:
            handle.write("unit\ttext\n")
            for key in part:
                handle.write(f"{key['unit']}\t{' '.join(text[key['check_id']].split())}\n")
    print(f"{len(batch)} contrast passages in {outdir}/E1.tsv and E2.tsv", file=sys.stderr)


def contrast_collect() -> None:
    """data/annotated/contrast/contrast.csv: each contrast passage whose blind label is the writer's aim
    and not the original's label, as a gold row of layer ``contrast`` under its source interview (so that
    cross-validation keeps a pair on one side of a fold). The others are left out, counted."""
    with open(CONTRAST / "blind_keys.csv", encoding="utf-8", newline="") as handle:
        check_of = {row["unit"]: row["check_id"] for row in csv.DictReader(handle)}
    blind = {}
    for returned in sorted(CONTRAST.glob("blind_*_labels.tsv")):
        with open(returned, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                blind[check_of[row["unit"].strip()]] = row["label"].strip()
    current = gold()
    rows, left_out, missing, stale = [], 0, 0, 0
    for path in sorted(CONTRAST.glob("flips_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            flip = json.loads(line)
            if flip["check_id"] not in blind:
                missing += 1
                continue
            if " ".join(flip["original"].split()) != " ".join(current[(flip["doc_id"], flip["passage_id"])]["text"].split()):
                stale += 1  # the passage was revised after it was edited: the pair no longer holds
                continue
            label = blind[flip["check_id"]]
            if label != flip["intended"] or label == current[(flip["doc_id"], flip["passage_id"])]["label"]:
                left_out += 1
                continue
            rows.append({"doc_id": flip["doc_id"], "passage_id": f"{flip['passage_id']}c", "text": flip["text"], "label": label,
                         "coder": "gold", "layer": "contrast",
                         "note": f"contraste de {flip['passage_id']} ({current[(flip['doc_id'], flip['passage_id'])]['label']}) : {flip.get('edit', '')}"})
    out = DATA / "annotated" / "contrast"
    out.mkdir(exist_ok=True)
    with open(out / "contrast.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["doc_id", "passage_id", "text", "label", "coder", "layer", "note"])
        writer.writeheader()
        writer.writerows(sorted(rows, key=lambda r: (r["doc_id"], r["passage_id"])))
    print(f"{len(rows)} contrast passages; {left_out} left out (the blind coder did not see the writer's stance); {missing} not coded; {stale} of a passage revised since", file=sys.stderr)


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "select":
        select(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5]))
    elif command == "invariances":
        invariances()
    elif command == "collect":
        collect()
    elif command == "contrast-sheets":
        contrast_sheets(Path(sys.argv[2]))
    elif command == "contrast-collect":
        contrast_collect()
    else:
        raise SystemExit(f"unknown command {command}")
