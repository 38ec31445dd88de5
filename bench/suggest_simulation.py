"""Does coding what `ethos suggest` picks teach the model more than coding random passages?

Usage: python bench/suggest_simulation.py [--seeds 10] [--rounds 8] [--batch 20] [--start 4] [--test 12]

A simulation on the bundled corpus (data/annotated, gold labels), for each seed:

- the interviews are shuffled; ``--test`` of them are held out and never enter the pool: every
  figure is macro-F1 on their passages (grouped: the model never saw these interviews);
- the model starts from every gold passage of ``--start`` other interviews;
- the pool is every passage of the remaining interviews. At each round, ``--batch`` passages of the
  pool are "coded" (their gold label is added) and the model is refitted: either the passages
  `ethos suggest` picks (the library function itself, with a model calibrated like `ethos train`
  does, on out-of-fold scores grouped by interview), or as many random ones (same seed, same start);
  a third arm takes the smallest margins alone (no cap per interview, no near-duplicate check).

The model is the shipped configuration (logistic regression, C = 4, on lemma n-grams). Prints a
Markdown table and writes it to bench/suggest_results.md. Lemmas come from the lemma cache (about
25 s the first time, a few seconds after).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ethos.model import (  # noqa: E402
    DEFAULT_CANDIDATE, EthosModel, TrainingData, calibrator, decision_scores, grouped_folds, pooled_macro_f1, training_data,
)
from ethos.nlp import LemmaCache, lemma_session, session_lemmas  # noqa: E402
from ethos.document import Passage  # noqa: E402
from ethos.suggest import Coded, suggest  # noqa: E402

STRATEGIES = ("suggest", "random", "margin only")


def fit_model(data: TrainingData, labelled: list[int], calibrate: bool) -> EthosModel:
    """The shipped configuration fitted on ``labelled``; with ``calibrate``, its temperature learnt on
    out-of-fold scores grouped by interview, as `ethos train` does."""
    subset = data.subset(labelled)
    pipeline = DEFAULT_CANDIDATE.pipeline().fit(subset.texts, subset.labels)
    temperature = calibrator()
    if calibrate:
        scores = np.zeros((len(labelled), len(data.label_order)))
        for train, test in grouped_folds(subset, n_splits=min(5, len(set(subset.groups)))):
            fold = DEFAULT_CANDIDATE.pipeline().fit([subset.texts[i] for i in train], [subset.labels[i] for i in train])
            scores[test] = decision_scores(fold, [subset.texts[i] for i in test], data.label_order)
        truth = np.array([data.label_order.index(label) for label in subset.labels])
        temperature.fit(scores, truth)
    else:
        temperature.temperature_ = 1.0
    return EthosModel(pipeline, temperature, list(data.label_order))


def held_out_f1(model: EthosModel, data: TrainingData, test: list[int]) -> float:
    predicted = model.predict([data.texts[i] for i in test])
    return pooled_macro_f1([data.labels[i] for i in test], predicted, data.label_order)


def simulate(data: TrainingData, seed: int, rounds: int, batch: int, start: int, n_test: int,
             strategies: tuple[str, ...] = STRATEGIES) -> dict[str, list[float]]:
    """Macro-F1 on the held-out interviews after each round, for each strategy (round 0: the start)."""
    rng = np.random.default_rng(seed)
    documents = list(rng.permutation(data.documents))
    test_docs, start_docs = set(documents[:n_test]), set(documents[n_test:n_test + start])
    groups = data.groups
    test = [i for i, d in enumerate(groups) if d in test_docs]
    first = [i for i, d in enumerate(groups) if d in start_docs]
    pool = [i for i, d in enumerate(groups) if d not in test_docs and d not in start_docs]
    passages = {i: Passage(data.units[i][0], data.units[i][1], None, data.texts[i], 0, len(data.texts[i]), data.texts[i]) for i in pool}
    index = {data.units[i]: i for i in pool}
    curves: dict[str, list[float]] = {}
    for strategy in strategies:
        labelled = list(first)
        picker = np.random.default_rng([seed, 1])
        curve = []
        for round_ in range(rounds + 1):
            model = fit_model(data, labelled, calibrate=strategy != "random")
            curve.append(held_out_f1(model, data, test))
            if round_ == rounds:
                break
            taken = set(labelled)
            remaining = [i for i in pool if i not in taken]
            if strategy == "random":
                chosen = [int(i) for i in picker.choice(remaining, size=min(batch, len(remaining)), replace=False)]
            else:
                coded = Coded(frozenset(data.units[i] for i in labelled))
                options = {} if strategy == "suggest" else {"per_interview": batch, "max_similarity": 2.0}
                found = suggest(model, [passages[i] for i in pool], batch, coded=coded, **options)
                chosen = [index[(s.passage.doc_id, s.passage.passage_id)] for s in found.suggestions]
            labelled += chosen
        curves[strategy] = curve
    return curves


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--start", type=int, default=4, help="interviews fully coded at the start")
    parser.add_argument("--test", type=int, default=12, help="held-out interviews, never in the pool")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "suggest_results.md")
    args = parser.parse_args()

    started = time.perf_counter()
    data = training_data([ROOT / "data" / "annotated"])
    results = []
    with lemma_session(LemmaCache()):
        session_lemmas(data.texts)
        for seed in range(args.seeds):
            curves = simulate(data, seed, args.rounds, args.batch, args.start, args.test)
            results.append(curves)
            print(f"seed {seed}: " + "; ".join(f"{s} {' '.join(f'{v:.3f}' for v in c)}" for s, c in curves.items()), file=sys.stderr)
    seconds = time.perf_counter() - started

    start_size = np.mean([sum(1 for d in data.groups if d in set(list(np.random.default_rng(s).permutation(data.documents))[args.test:args.test + args.start]))
                          for s in range(args.seeds)])
    mean = {s: np.mean([r[s] for r in results], axis=0) for s in STRATEGIES}
    gain = np.array([np.array(r["suggest"]) - np.array(r["random"]) for r in results])
    lines = [
        "# `ethos suggest`: suggested passages against random ones",
        "",
        f"Bundled corpus ({len(data.labels)} gold passages, {len(data.documents)} interviews). Each seed: {args.test} interviews held out "
        f"(never in the pool), the model starts from the gold passages of {args.start} other interviews (about {start_size:.0f} passages), "
        f"and each round adds {args.batch} passages of the pool with their gold labels. Macro-F1 on the held-out interviews, mean "
        f"over {args.seeds} seeds; 'wins' counts the seeds where suggested passages beat random ones. "
        f"Command: `.venv/bin/python bench/suggest_simulation.py --seeds {args.seeds} --rounds {args.rounds} --batch {args.batch} "
        f"--start {args.start} --test {args.test}` ({seconds:.0f} s).",
        "",
        "| passages added | suggest | random | margin only | suggest - random | wins |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for round_ in range(args.rounds + 1):
        wins = int((gain[:, round_] > 0).sum())
        lines.append(f"| {round_ * args.batch} | {mean['suggest'][round_]:.3f} | {mean['random'][round_]:.3f} | {mean['margin only'][round_]:.3f} | "
                     f"{gain[:, round_].mean():+.3f} | {wins if round_ else '-'}{'' if not round_ else f'/{args.seeds}'} |")
    after = gain[:, 1:].mean(axis=1)
    lines += ["", f"Mean gain over rounds 1 to {args.rounds}: {after.mean():+.3f} (per seed: {', '.join(f'{g:+.3f}' for g in after)})."]
    table = "\n".join(lines) + "\n"
    print(table)
    args.output.write_text(table, encoding="utf-8")


if __name__ == "__main__":
    main()
