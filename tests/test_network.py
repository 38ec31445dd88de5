"""ethos never opens a network connection: transcripts are personal data and nothing leaves the machine.

The main commands run with the socket functions replaced by ones that refuse (and record) any
attempt; every command must succeed without one.
"""

from __future__ import annotations

import json
import socket
import zipfile

import pytest
from click.testing import CliRunner

from ethos.cli import main

from conftest import ROOT

EXAMPLE = ROOT / "data" / "examples" / "exemple01.txt"


def block_network(monkeypatch) -> list:
    """Make every way of opening a connection raise; the returned list records what was attempted."""
    attempts: list = []

    def refuse(name):
        def refused(*args, **kwargs):
            attempts.append((name, args))
            raise OSError(f"network access attempted in a test: socket.{name}{args!r}")
        return refused

    for name in ("create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex", "create_server", "socketpair"):
        monkeypatch.setattr(socket, name, refuse(name))
    for name in ("connect", "connect_ex", "sendto", "bind"):
        monkeypatch.setattr(socket.socket, name, refuse(f"socket.{name}"))
    monkeypatch.setattr(socket.socket, "__init__", refuse("socket"))
    return attempts


@pytest.fixture
def offline(monkeypatch):
    return block_network(monkeypatch)


def test_the_guard_refuses_connections(offline):
    with pytest.raises(OSError, match="network access attempted"):
        socket.create_connection(("127.0.0.1", 9))
    with pytest.raises(OSError, match="network access attempted"):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with pytest.raises(OSError, match="network access attempted"):
        socket.getaddrinfo("example.org", 80)
    assert len(offline) == 3
    offline.clear()


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def test_the_main_commands_work_offline(offline, trained_model, small_annotations, tmp_path):
    passages = [json.loads(line) for line in run("segment", EXAMPLE, "-q").stdout.splitlines()]
    assert passages and all(p["doc_id"] == "exemple01" for p in passages)
    lemmas = [json.loads(line) for line in run("lemmatize", EXAMPLE, "-q", "--no-cache").stdout.splitlines()]
    assert len(lemmas) == len(passages) and all(p["lemmas"] for p in lemmas)
    assert "exemple01:" in run("score", EXAMPLE, "--model", trained_model, "-q").stdout
    scored = json.loads(run("score", EXAMPLE, "--model", trained_model, "--format", "json", "-q").stdout)
    assert len(scored["documents"][0]["passages"]) == len(passages)
    run("score", EXAMPLE, "--model", trained_model, "--format", "html", "-o", tmp_path / "r.html", "-q")
    assert "<html" in (tmp_path / "r.html").read_text(encoding="utf-8")
    run("score", EXAMPLE, "--model", trained_model, "--format", "qdpx", "-o", tmp_path / "p.qdpx", "-q")
    assert "project.qde" in zipfile.ZipFile(tmp_path / "p.qdpx").namelist()
    agreement = json.loads(run("agreement", small_annotations, "--model", trained_model, "--resamples", "100", "--format", "json").stdout)
    assert "model" in agreement["coders"]
    evaluation = json.loads(run("evaluate", "--data", small_annotations, "--model", trained_model, "--folds", "2",
                                "--no-learning-curve", "--format", "json", "-q").stdout)
    assert 0 < evaluation["macro_f1"] <= 1
    features = json.loads(run("features", "--model", trained_model, "--data", small_annotations, "--top", "3", "--format", "json", "-q").stdout)
    assert set(features["features"]) == {"manager", "artisan", "other"}
    assert offline == []
