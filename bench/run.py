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


def peak_rss(command: list[str]) -> float:
    """Peak resident memory of a command, in MiB, measured in a fresh parent so no other child counts.

    The largest of the command's own processes, not their sum: with --n-process 2 it would under-count."""
    probe = "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    out = subprocess.run([sys.executable, "-c", probe, *command], check=True, capture_output=True, text=True).stdout
    return int(out.split()[-1]) / (1024 * 1024 if sys.platform == "darwin" else 1024)


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


def bench_agreement(repeats: int, work: Path) -> list[tuple]:
    """The agreement command against a bare numpy script computing alpha once, and the bootstrap alone."""
    import numpy as np

    from ethos.agreement import bootstrap_alpha, value_counts

    annotated = str(ROOT / "data" / "annotated")
    ours = [ETHOS, "agreement", annotated, "--resamples", "1000", "--format", "json", "-o", str(work / "agreement.json"), "--force"]
    bare = [sys.executable, str(ROOT / "bench" / "bare_alpha.py"), annotated]
    fewer = [ETHOS, "agreement", annotated, "--resamples", "100", "--format", "json", "-o", str(work / "agreement.json"), "--force"]
    runs = max(repeats, 5)  # each run is under a second
    t_bare, t_ours = alternate(bare, ours, runs)
    t_fewer, t_more = alternate(fewer, ours, runs)

    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 5000)
    codes = np.where(rng.random((5000, 3)) < 0.8, truth[:, None], rng.integers(0, 3, (5000, 3)))
    counts = value_counts(codes, 3)
    times = {100: [], 1000: []}
    for _ in range(runs):
        for resamples in times:
            start = time.perf_counter()
            bootstrap_alpha(counts, resamples)
            times[resamples].append(time.perf_counter() - start)
    return [
        ("agreement --resamples 1000 vs a bare numpy script computing alpha once", t_bare, t_ours, f"bundled annotations (4 files, 1045 passages, 3 coders + gold); medians of {runs}"),
        ("agreement --resamples 1000 vs --resamples 100", t_fewer, t_more, f"same; medians of {runs}"),
        ("bootstrap_alpha, 1000 vs 100 resamples (library, in process)", statistics.median(times[100]), statistics.median(times[1000]), f"5000 units x 3 coders x 3 labels, synthetic; medians of {runs}"),
    ]


def bench_memory(repeats: int, work: Path) -> list[tuple]:
    """Peak resident memory of score --no-cache against the bare spaCy script on the same passages."""
    files = cfpp_transcripts()
    passages = work / "passages.jsonl"
    subprocess.run([ETHOS, "segment", *files, "-q", "-o", str(passages), "--force"], check=True)
    n = sum(1 for _ in open(passages))
    bare = [sys.executable, str(ROOT / "bench" / "bare_spacy.py"), str(passages)]
    ours = [ETHOS, "score", *files, "-q", "--no-cache", "--model", str(ROOT / "models" / "default"), "--format", "json", "-o", str(work / "scores.json"), "--force"]
    runs = min(repeats, 2)  # the peak barely moves between runs
    peaks_bare, peaks_ours = [], []
    for _ in range(runs):
        peaks_bare.append(peak_rss(bare))
        peaks_ours.append(peak_rss(ours))
    return [("peak RSS, score --no-cache vs bare spaCy", statistics.median(peaks_bare), statistics.median(peaks_ours), f"MiB (max RSS); {n} passages of 11 real interviews (cfpp2000); medians of {runs}", "MiB")]


def scale_transcripts() -> list[Path]:
    """Every distinct real interview under the shared corpora, in a fixed order.

    Left out: the 2 TextGrids of cfpp2000 and the 2 ORFEO versions of CFPP interviews, which are other
    transcriptions of interviews already in cfpp2000.
    """
    files = sorted((CORPORA / "cfpp2000").glob("*.txt")) + sorted((CORPORA / "eslo1").glob("*.trs"))
    files += sorted(p for p in (CORPORA / "orfeo").glob("*.txt") if not p.name.startswith("cfpp__"))
    files += sorted((CORPORA / "rhapsodie").glob("Rhap_*.txt"))
    if not files:
        sys.exit(f"bench: the real interviews are missing ({CORPORA})")
    return files


def bench_scale(repeats: int, work: Path) -> list[tuple]:
    """How time grows with the number of transcripts: score --no-cache and the bare spaCy script.

    Sizes 1, 5, 10, every distinct real interview, and 50 (reaching 50 by copying real interviews under
    other names in a temporary folder). The fixed cost a and the cost per 1,000 passages b are fitted
    on the sizes made of distinct interviews only: ethos lemmatises each distinct passage once per run,
    so copies cost it less than the bare script, which lemmatises everything it is given. Time follows
    words more than passages (15 to 47 words a passage on average, by corpus): rows give both.
    """
    import numpy as np

    real = scale_transcripts()
    folder = work / "scale"
    folder.mkdir(exist_ok=True)
    largest = []
    for i in range(max(50, len(real))):
        source = real[i % len(real)]
        target = folder / (source.name if i < len(real) else f"copy{i // len(real)}__{source.name}")
        if i >= len(real):
            target.write_bytes(source.read_bytes())
        largest.append(str(source if i < len(real) else target))
    sizes = sorted({1, 5, 10, len(real), 50})
    model = str(ROOT / "models" / "default")

    def commands(files: list[str], n_process: int = 1) -> tuple[list[str], list[str], int, int, int]:
        passages = work / f"scale-{len(files)}.jsonl"
        subprocess.run([ETHOS, "segment", *files, "-q", "-o", str(passages), "--force"], check=True)
        texts = [json.loads(line)["clean"] for line in open(passages, encoding="utf-8")]
        bare = [sys.executable, str(ROOT / "bench" / "bare_spacy.py"), str(passages), str(n_process)]
        ours = [ETHOS, "score", *files, "-q", "--no-cache", "--n-process", str(n_process), "--model", model, "--format", "json", "-o", str(work / "scale.json"), "--force"]
        return bare, ours, len(texts), len(set(texts)), sum(len(text.split()) for text in texts)

    rows, points = [], []
    for size in sizes:
        files = largest[:size]
        bare, ours, n, unique, words = commands(files)
        runs = 1 if size >= 50 else min(repeats, 2)  # about 8 minutes in all on 2 cores
        t_bare, t_ours = alternate(bare, ours, runs)
        if size <= len(real):
            what = "every distinct real interview" if size == len(real) else f"{size} real interview" + "s" * (size > 1)
        else:
            what = f"{len(real)} real interviews and {size - len(real)} copies of them"
        per = f"s per 1,000 passages: bare {1000 * t_bare / n:.2f}, ethos {1000 * t_ours / n:.2f}"
        rows.append((f"scale: score --no-cache vs bare spaCy, {size} transcript" + "s" * (size > 1), t_bare, t_ours, f"{what}, {n} passages ({unique} distinct), {words} words; {per}; " + (f"medians of {runs}" if runs > 1 else "1 run")))
        if size <= len(real):
            points.append((n, t_bare, t_ours))
        if size == 50:
            single = (t_bare, t_ours)
    x = np.array([n for n, _, _ in points], dtype=float)
    fit_bare = np.polyfit(x, [t for _, t, _ in points], 1)
    fit_ours = np.polyfit(x, [t for _, _, t in points], 1)
    residual = max(max(abs(np.polyval(fit_bare, n) - b), abs(np.polyval(fit_ours, n) - o)) for n, b, o in points)
    fitted = f"least squares over the {len(points)} sizes of distinct interviews ({', '.join(str(n) for n, _, _ in points)} passages), largest residual {residual:.1f} s"
    rows.append(("scale fit: fixed cost a of time = a + b x passages", fit_bare[1], fit_ours[1], f"s; {fitted}"))
    rows.append(("scale fit: b, seconds per 1,000 passages", 1000 * fit_bare[0], 1000 * fit_ours[0], "s; same fit"))

    bare, ours, n, _, _ = commands(largest[:50], n_process=2)
    t_bare, t_ours = alternate(bare, ours, 1)
    rows.append(("scale: --n-process 2, 50 transcripts", t_bare, t_ours, f"{n} passages; against 1 process: bare {t_bare / single[0]:.2f}x, ethos {t_ours / single[1]:.2f}x the time; 1 run"))
    return rows


BENCHMARKS = {"lemmatize": bench_lemmatize, "score": bench_score, "train": bench_train, "agreement": bench_agreement, "memory": bench_memory, "scale": bench_scale}


def format_row(name: str, a: float, b: float, note: str, unit: str = "s") -> str:
    cell = (lambda v: f"{v:.0f}") if unit == "MiB" else (lambda v: f"{v:.2f}")
    return f"| {name} | {cell(a)} | {cell(b)} | {b / a:.2f} | {note} |"


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
        f"medians of {args.repeats} alternated runs unless stated; seconds unless stated.",
        "",
        "| benchmark | baseline | ethos | ratio | input |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    measured = [format_row(*row) for row in rows]
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
