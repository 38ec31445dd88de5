"""Retraining from the studio: ``ethos train`` in a child process, its progress read from what it says.

The child is the command every researcher runs, so the studio's model is trained, checked, compared
with the previous one and saved (journalled, the previous model archived) exactly as ``ethos train``
would; the server keeps answering coders meanwhile (the child has its own interpreter), and a killed
server or child leaves the model folder whole (``ethos train`` saves under its lock and journal).
Once it is done, the new model is loaded, and what changed is worked out: the figures against the
previous model's, and the passages of the studio's transcripts whose label the model changed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from ..errors import EthosError

#: How far along a training is when ``ethos train`` says each of these (it reports phases, not folds).
PHASES = [
    (re.compile(r"^\d+ labelled passages from"), 12, "Lemmatisation et validation croisée"),
    (re.compile(r"^Learning curve"), 72, "Courbe d'apprentissage"),
    (re.compile(r"^Checks \("), 84, "Contrôles de comportement"),
    (re.compile(r"^Fitting "), 92, "Ajustement sur tous les passages"),
]
CANDIDATE = re.compile(r"^\[(\d+)/(\d+)\] (\S+): grouped macro-F1 ([0-9.]+)")


class Retraining:
    """One retraining at a time, in the background, with its progress and its outcome."""

    def __init__(self, project, on_new_model=None):
        self.project = project
        self.on_new_model = on_new_model
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self.status: dict = {"state": "idle", "progress": 0, "phase": "", "log": [], "result": None, "error": ""}

    def snapshot(self) -> dict:
        with self._lock:
            return {**self.status, "log": list(self.status["log"][-40:])}

    def _set(self, **values) -> None:
        with self._lock:
            self.status.update(values)

    def command(self, compare_all: bool) -> list[str]:
        settings = self.project.settings
        command = [sys.executable, "-m", "ethos.cli", "train", "--data", str(self.project.data), "--model-dir", str(self.project.train_dir)]
        if not compare_all:
            command.append("--quick")
        if settings.codebook:
            command += ["--codebook", str(self.project._path(settings.codebook))]
        if not settings.use_cache:
            command.append("--no-cache")
        return command

    def start(self, compare_all: bool = False) -> dict:
        with self._lock:
            if self.status["state"] == "running":
                raise EthosError("a retraining is under way already")
            self.status = {"state": "running", "progress": 2, "phase": "Lecture des codages", "log": [], "result": None, "error": "",
                           "started": time.time(), "compare_all": compare_all}
        threading.Thread(target=self._run, args=(compare_all,), name="ethos-retrain", daemon=True).start()
        return self.snapshot()

    def cancel(self) -> None:
        with self._lock:
            process = self._process
        if process is not None and process.poll() is None:
            process.terminate()

    def _run(self, compare_all: bool) -> None:
        project = self.project
        try:
            old_model = project.model
            env = dict(os.environ, PYTHONUNBUFFERED="1")
            if project.settings.cache_dir:
                env["ETHOS_CACHE_DIR"] = str(project.settings.cache_dir)
            process = subprocess.Popen(self.command(compare_all), cwd=project.root, env=env, stdin=subprocess.DEVNULL,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace")
            with self._lock:
                self._process = process
            output: list[str] = []
            reader = threading.Thread(target=lambda: output.extend(process.stdout), daemon=True)
            reader.start()
            for line in process.stderr:
                self._hear(line.rstrip("\n"))
            code = process.wait()
            reader.join(timeout=5)
            if code != 0:
                errors = [line for line in self.status["log"] if line.startswith("Error:")]
                message = errors[-1] if errors else (self.status["log"][-1] if self.status["log"] else f"ethos train stopped (exit {code})")
                self._set(state="failed", error=message, progress=0, phase="")
                return
            self._set(progress=96, phase="Chargement du nouveau modèle")
            project.load_model(project.train_dir)
            result = self._outcome(old_model, project.model, output)
            if self.on_new_model is not None:
                self.on_new_model()
            self._set(state="done", progress=100, phase="Terminé", result=result)
        except Exception as error:  # a bug or a model that cannot load: said on the page, the server goes on
            self._set(state="failed", error=f"{type(error).__name__}: {error}", progress=0, phase="")
        finally:
            with self._lock:
                self._process = None

    def _hear(self, line: str) -> None:
        if not line.strip():
            return
        with self._lock:
            self.status["log"].append(line)
            for pattern, progress, phase in PHASES:
                if pattern.search(line):
                    self.status["progress"], self.status["phase"] = max(progress, self.status["progress"]), phase
            match = CANDIDATE.search(line)
            if match:
                done, total = int(match.group(1)), int(match.group(2))
                self.status["progress"] = max(self.status["progress"], 12 + int(58 * done / total))
                self.status["phase"] = f"Validation croisée : candidat {done}/{total}"

    def _outcome(self, old_model, new_model, output: list[str]) -> dict:
        """The new model's figures, the change against the previous one, and the passages relabelled."""
        manifest = new_model.manifest
        evaluation = manifest.get("evaluation") or {}
        previous = manifest.get("previous")
        figures = {"macro_f1": evaluation.get("macro_f1"), "kappa": evaluation.get("kappa"),
                   "per_label": {label: (evaluation.get("per_label") or {}).get(label, {}).get("f1") for label in new_model.labels},
                   "per_layer": {layer: figures.get("macro_f1") for layer, figures in (evaluation.get("per_layer") or {}).items()},
                   "n_passages": (manifest.get("training_data") or {}).get("n_passages"),
                   "candidate": (manifest.get("model") or {}).get("candidate"), "created": manifest.get("created")}
        changed = []
        passages = self.project.all_passages()
        if old_model is not None and passages and old_model.manifest.get("sha256") != manifest.get("sha256"):
            texts = [p.clean for p in passages]
            with self.project.lemmas.session():
                before, after = old_model.predict(texts), new_model.predict(texts)
            changed = [{"doc_id": p.doc_id, "passage_id": p.passage_id, "before": b, "after": a, "text": p.text[:160]}
                       for p, b, a in zip(passages, before, after) if a != b]
        return {"figures": figures, "previous": previous, "changed": changed, "n_scored": len(passages),
                "model_dir": str(Path(self.project.train_dir)), "output": "".join(output)[-4000:]}
