"""A small project for the studio's tests: three transcripts, two coders' files, the session's small model."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from conftest import ROOT

#: ent08 holds a passage coders A and B disagree on (and no gold file here settles it).
STUDIO_DOCS = ("ent01", "ent02", "ent08")


def make_project(folder: Path, small_annotations: Path, trained_model: Path | None, docs=STUDIO_DOCS, coders=("coder_a", "coder_b")) -> Path:
    """A project folder as a researcher has one: data/transcripts, data/annotated, the codebook, models/default."""
    (folder / "data" / "transcripts").mkdir(parents=True)
    (folder / "data" / "annotated").mkdir(parents=True)
    for doc in docs:
        shutil.copy(ROOT / "data" / "transcripts" / f"{doc}.txt", folder / "data" / "transcripts")
    shutil.copy(ROOT / "data" / "codebook.toml", folder / "data" / "codebook.toml")
    for name in coders:
        with open(small_annotations / f"{name}.csv", encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            rows = [row for row in reader if row["doc_id"] in docs]
            columns = reader.fieldnames
        with open(folder / "data" / "annotated" / f"{name}.csv", "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    if trained_model is not None:
        shutil.copytree(trained_model, folder / "models" / "default")
    return folder


def settings_for(folder: Path, transcripts=(), coder: str | None = None, **values):
    from ethos.studio.project import Settings

    model = folder / "models" / "default"
    values.setdefault("data", folder / "data" / "annotated")
    return Settings(root=folder, transcripts=list(transcripts), model_dir=model if (model / "manifest.json").exists() else None,
                    train_dir=model, coder=coder, **values)
