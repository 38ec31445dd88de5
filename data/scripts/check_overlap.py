"""Find runs of eight words that two texts of the corpus share (a sign of copying or of a template).

    python data/scripts/check_overlap.py                 # every pair of texts under data/transcripts
    python data/scripts/check_overlap.py ent49 ent50     # only runs involving these documents

Speech is read as ``ethos`` reads it (speaker labels and transcription marks left out), lower-cased,
letters and digits only. Prints each shared run with the two documents; exits 1 when there is one.
"""

import re
import sys
from collections import defaultdict
from pathlib import Path

from ethos.cleaning import clean
from ethos.readers import read_transcript

DATA = Path(__file__).resolve().parent.parent
RUN = 8


def runs(path: Path) -> set[tuple[str, ...]]:
    document = read_transcript(path)
    found: set[tuple[str, ...]] = set()
    for turn in document.turns:
        words = re.findall(r"\w+", clean(document.raw[turn.start:turn.end]).lower())
        found.update(tuple(words[i:i + RUN]) for i in range(len(words) - RUN + 1))
    return found


def main(only: list[str]) -> int:
    where: dict[tuple[str, ...], set[str]] = defaultdict(set)
    paths = sorted((DATA / "transcripts").glob("*.txt")) + sorted((DATA / "examples").glob("*.txt"))
    for path in paths:
        for run in runs(path):
            where[run].add(path.stem)
    shared = 0
    for run, docs in sorted(where.items(), key=lambda item: sorted(item[1])):
        if len(docs) > 1 and (not only or docs & set(only)):
            shared += 1
            print(f"{', '.join(sorted(docs))}: {' '.join(run)}")
    print(f"{shared} shared runs of {RUN} words", file=sys.stderr)
    return 1 if shared else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
