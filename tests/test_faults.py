"""A training killed at any moment, or two at once, never costs the team its model."""

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import warnings

import pytest
from click.testing import CliRunner

from ethos.cli import main
from ethos.model import TrainingLock, file_sha256, load_model, recover_interrupted_save


@pytest.fixture
def model_copy(trained_model, tmp_path):
    folder = tmp_path / "models" / "default"
    shutil.copytree(trained_model, folder)
    return folder


def test_a_second_training_is_refused_while_one_runs(model_copy, small_annotations):
    before = file_sha256(model_copy / "model.npz")
    with TrainingLock(model_copy):
        result = CliRunner().invoke(main, ["train", "--data", str(small_annotations), "--model-dir", str(model_copy), "--quick", "-q"])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: another `ethos train` is writing {model_copy}; wait until it has finished"
    assert file_sha256(model_copy / "model.npz") == before
    with TrainingLock(model_copy):  # released when the first one ends
        pass


def test_a_swap_interrupted_between_its_two_renames_is_rolled_back(model_copy):
    before = file_sha256(model_copy / "model.npz")
    archived = model_copy.parent / "archive" / "default-old"
    archived.parent.mkdir()
    staging = model_copy.parent / ".default-half"
    staging.mkdir()
    (staging / "model.npz").write_bytes(b"half a model")
    (model_copy.parent / ".default.swap.json").write_text(json.dumps({"archived": str(archived), "staging": str(staging)}))
    model_copy.rename(archived)  # the process died here, before moving the new model in
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = load_model(model_copy)
    assert model.manifest["files"]["model.npz"] == before == file_sha256(model_copy / "model.npz")
    assert "previous model was put back" in str(caught[0].message)
    assert not staging.exists() and not (model_copy.parent / ".default.swap.json").exists()
    recover_interrupted_save(model_copy)  # nothing left to do
    assert file_sha256(model_copy / "model.npz") == before


def test_a_read_during_a_live_swap_waits_and_never_removes_the_model(model_copy):
    """Issue 13: a `score` that read the manifest between the journal and the renames of a live training
    ran the recovery without the lock, deleted the staging folder, and the model was gone."""
    import threading

    from ethos.model import read_manifest

    before = file_sha256(model_copy / "model.npz")
    archived = model_copy.parent / "archive" / "default-old"
    archived.parent.mkdir()
    staging = model_copy.parent / ".default-new"
    journal = model_copy.parent / ".default.swap.json"
    seen = {}
    with TrainingLock(model_copy):  # the training is alive, and has written its new model beside the old
        shutil.copytree(model_copy, staging)
        journal.write_text(json.dumps({"archived": str(archived), "staging": str(staging)}))
        model_copy.rename(archived)  # first rename done; a reader comes in now
        reader = threading.Thread(target=lambda: seen.update(manifest=read_manifest(model_copy)))
        reader.start()
        time.sleep(0.3)
        assert reader.is_alive() and staging.is_dir() and journal.exists()  # it waits, and touches nothing
        staging.rename(model_copy)  # the training finishes its swap
        journal.unlink()
        reader.join(timeout=10)
    assert seen["manifest"]["files"]["model.npz"] == before
    assert archived.is_dir() and load_model(model_copy).labels == ["manager", "artisan", "other"]


def test_killing_a_training_at_random_moments_always_leaves_a_loadable_model(model_copy, small_annotations):
    command = [sys.executable, "-m", "ethos.cli", "train", "--data", str(small_annotations), "--model-dir", str(model_copy),
               "--quick", "--folds", "2", "--no-metadata", "-q"]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=os.environ.copy(), timeout=300)  # warms the cache; a full run
    full = time.perf_counter() - started
    shas = {load_model(model_copy).manifest["sha256"]}
    rng = random.Random(7)
    for delay in sorted(rng.uniform(0.2, full * 1.05) for _ in range(5)):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        model = load_model(model_copy)  # recovers an interrupted swap if there is one
        assert model.manifest["files"]["model.npz"] == file_sha256(model_copy / "model.npz")
        assert model.labels == ["manager", "artisan", "other"]
        shas.add(model.manifest["sha256"])
        with TrainingLock(model_copy):  # the killed process's lock died with it; leftovers are swept
            pass
        assert not list(model_copy.parent.glob(".default-*"))
    assert len(shas) == 1  # same data, same seed: every finished training writes the same bytes


WRITER = """
import sys
from ethos.nlp import LemmaCache, Token
cache = LemmaCache(sys.argv[1], key="test")
n = 0
print("ready", flush=True)
while True:
    cache.put_many([(f"passage {n}-{i}", [Token("mot", "mot", "NOUN", False, 0)] * 40) for i in range(200)])
    n += 1
"""


def test_the_lemma_cache_survives_a_writer_killed_mid_write(tmp_path):
    process = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    time.sleep(1.5)
    process.send_signal(signal.SIGKILL)
    process.wait()
    from ethos.nlp import LemmaCache, Token

    cache = LemmaCache(tmp_path, key="test")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a killed writer must not make the cache look damaged
        found = cache.get_many([f"passage 0-{i}" for i in range(200)])
        cache.put_many([("after", [Token("après", "après", "ADP", True, 0)])])
        assert cache.get_many(["after"])["after"][0].lemma == "après"
    assert len(found) == 200  # the first transaction was committed before the kill
