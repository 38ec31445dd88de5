"""The bare baseline for agreement: read annotation CSVs and compute nominal alpha once, nothing else.

What a researcher's own numpy script would do: no validation, no bootstrap, no other figure. Units
are (doc_id, passage_id); the coder `gold` is left out, as ethos does.
"""

import csv
import sys
from pathlib import Path

import numpy as np

codes: dict[tuple[str, str], dict[str, str]] = {}
for path in sorted(Path(sys.argv[1]).glob("*.csv")):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["coder"] != "gold":
                codes.setdefault((row["doc_id"], row["passage_id"]), {})[row["coder"]] = row["label"]
labels = sorted({label for unit in codes.values() for label in unit.values()})
counts = np.array([[list(unit.values()).count(label) for label in labels] for unit in codes.values()], dtype=float)
m = counts.sum(axis=1)
counts, m = counts[m >= 2], m[m >= 2]
o = np.einsum("ui,uj->ij", counts / (m - 1)[:, None], counts) - np.diag((counts / (m - 1)[:, None]).sum(axis=0))
n_c = o.sum(axis=1)
n = n_c.sum()
alpha = 1 - (n - 1) * (o.sum() - np.trace(o)) / (n ** 2 - (n_c ** 2).sum())
print(f"{alpha:.3f}", file=sys.stderr)
