"""Benchmarks of ethos against a bare spaCy script, as ratios measured in one run.

Usage: python bench/run.py [--quick] [--only NAME ...]

Each benchmark alternates the two sides (A, B, A, B...) so that both see the same machine state, and
reports median times and their ratio. Results go to standard output and to bench/results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT.parent / "shared" / "corpora"
BIN = Path(sys.executable).parent
ETHOS = str(BIN / "ethos")


def timed(command: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    return time.perf_counter() - start


def alternate(a: list[str], b: list[str], repeats: int, env_a=None, env_b=None, before_b=None) -> tuple[float, float]:
    times_a, times_b = [], []
    for _ in range(repeats):
        times_a.append(timed(a, env_a))
        if before_b:
            before_b()
        times_b.append(timed(b, env_b))
    return statistics.median(times_a), statistics.median(times_b)


def cfpp_transcripts() -> list[str]:
    files = sorted(str(p) for p in (CORPORA / "cfpp2000").glob("*.txt"))
    if not files:
        sys.exit(f"bench: the real interviews are missing ({CORPORA / 'cfpp2000'})")
    return files


def bench_lemmatize(repeats: int, work: Path) -> list[tuple[str, float, float, str]]:
    files = cfpp_transcripts()
    passages = work / "passages.jsonl"
    subprocess.run([ETHOS, "segment", *files, "-q", "-o", str(passages), "--force"], check=True)
    n = sum(1 for _ in open(passages))
    bare = [sys.executable, str(ROOT / "bench" / "bare_spacy.py"), str(passages)]
    ours = [ETHOS, "lemmatize", *files, "-q", "--no-cache", "-o", str(work / "out.jsonl"), "--force"]
    t_bare, t_ours = alternate(bare, ours, repeats)
    rows = [("lemmatize --no-cache vs bare spaCy", t_bare, t_ours, f"{n} passages of 11 real interviews (cfpp2000)")]

    env = dict(os.environ, ETHOS_CACHE_DIR=str(work / "cache"))
    cached = [ETHOS, "lemmatize", *files, "-q", "-o", str(work / "out.jsonl"), "--force"]
    uncached = [ETHOS, "lemmatize", *files, "-q", "--no-cache", "-o", str(work / "out.jsonl"), "--force"]
    timed(cached, env)  # warm the cache
    t_uncached, t_cached = alternate(uncached, cached, repeats, env, env)
    rows.append(("lemmatize, warm cache vs no cache", t_uncached, t_cached, "same passages"))
    return rows


def bench_score(repeats: int, work: Path) -> list[tuple[str, float, float, str]]:
    files = cfpp_transcripts()
    passages = work / "passages.jsonl"
    subprocess.run([ETHOS, "segment", *files, "-q", "-o", str(passages), "--force"], check=True)
    n = sum(1 for _ in open(passages))
    bare = [sys.executable, str(ROOT / "bench" / "bare_spacy.py"), str(passages)]
    ours = [ETHOS, "score", *files, "-q", "--no-cache", "--model", str(ROOT / "models" / "default"), "--format", "json", "-o", str(work / "scores.json"), "--force"]
    t_bare, t_ours = alternate(bare, ours, repeats)
    return [("score --no-cache vs bare spaCy", t_bare, t_ours, f"{n} passages of 11 real interviews (cfpp2000), shipped model, JSON with explanations")]


def bench_train(repeats: int, work: Path) -> list[tuple[str, float, float, str]]:
    """Training on the bundled corpus with a warm cache, against one bare spaCy pass over its passages."""
    import csv

    gold = ROOT / "data" / "annotated" / "gold.csv"
    passages = work / "gold.jsonl"
    with open(gold, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    from ethos.cleaning import clean

    with open(passages, "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps({"clean": clean(row["text"])}, ensure_ascii=False) + "\n")
    env = dict(os.environ, ETHOS_CACHE_DIR=str(work / "train-cache"))
    ours = [ETHOS, "train", "-q", "--data", str(ROOT / "data" / "annotated"), "--model-dir", str(work / "model")]
    timed(ours, env)  # warm the cache
    bare = [sys.executable, str(ROOT / "bench" / "bare_spacy.py"), str(passages)]
    t_bare, t_ours = alternate(bare, ours, repeats, None, env)
    return [("train, warm cache (10 candidates x 5 folds, learning curve) vs one bare spaCy pass", t_bare, t_ours, f"{len(rows)} annotated passages of the bundled corpus")]


BENCHMARKS = {"lemmatize": bench_lemmatize, "score": bench_score, "train": bench_train}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHMARKS))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name in args.only or BENCHMARKS:
            rows.extend(BENCHMARKS[name](args.repeats, Path(folder)))
    header = [
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"medians of {args.repeats} alternated runs.",
        "",
        "| benchmark | baseline (s) | ethos (s) | ratio | input |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    measured = [f"| {name} | {a:.2f} | {b:.2f} | {b / a:.2f} | {note} |" for name, a, b, note in rows]
    print("\n".join(header + measured))
    # rows of benchmarks not run this time are kept from the previous results, marked with their date
    results = ROOT / "bench" / "results.md"
    kept = []
    if args.only and results.exists():
        names = {name for name, *_ in rows}
        previous = results.read_text(encoding="utf-8").splitlines()
        date = previous[0].split(" on ")[0].removeprefix("Measured ") if previous else "earlier"
        for line in previous:
            cells = [c.strip() for c in line.strip("|").split("|")]
            if line.startswith("| ") and cells[0] not in names and cells[0] not in ("benchmark", "---"):
                kept.append(line if "(measured" in line else line.rstrip(" |") + f" (measured {date}) |")
    results.write_text("\n".join(header + kept + measured) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
