"""The documentation never drifts from the code.

Convention: in README.md, every fenced block of `sh` runs in the tests, line by line (a line is an
`ethos` command; `-o FILE` writes into a temporary folder). A block fenced `sh ignore` is too slow or
needs a browser (training, the studio): its commands, like every `ethos` line of a `sh` block in
docs/*.md (whose examples name the reader's own files), are checked to parse, options and all, by
running them with `--help` added. Links between pages must point to files that exist.
"""

import re
import shlex

import pytest
from click.testing import CliRunner

from ethos.cli import main

from conftest import ROOT

DOCS = sorted((ROOT / "docs").glob("*.md"))
BLOCK = re.compile(r"^```(sh(?: ignore)?)\n(.*?)^```", re.M | re.S)


def commands_in(path, kinds=("sh", "sh ignore")):
    found = []
    for kind, body in BLOCK.findall(path.read_text(encoding="utf-8")):
        if kind in kinds:
            for line in body.splitlines():
                line = line.split("  #")[0].strip()
                if line.startswith("ethos "):
                    found.append(line)
    return found


def args_of(line):
    return shlex.split(line)[1:]


@pytest.mark.slow
@pytest.mark.parametrize("line", commands_in(ROOT / "README.md", ("sh",)))
def test_every_readme_example_runs(line, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    args = args_of(line)
    if "-o" in args:
        i = args.index("-o")
        args[i + 1] = str(tmp_path / args[i + 1])
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, f"{line}\n{result.output}"


@pytest.mark.parametrize("line", commands_in(ROOT / "README.md", ("sh ignore",)) + [c for page in DOCS for c in commands_in(page)])
def test_every_documented_command_parses(line):
    result = CliRunner().invoke(main, args_of(line) + ["--help"])
    assert result.exit_code == 0, f"{line}\n{result.output}"


def test_the_readme_is_a_front_door():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 220
    assert "make demo" in lines[lines.index("## Set-up") + 3] and "make test" in lines[lines.index("## Set-up") + 4]


def test_every_command_is_documented():
    pages = "".join(page.read_text(encoding="utf-8") for page in DOCS)
    missing = [name for name in main.commands if f"`ethos {name}`" not in pages]
    assert not missing, missing


@pytest.mark.parametrize("page", [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "CHANGELOG.md", *DOCS], ids=lambda p: p.name)
def test_links_point_to_files_that_exist(page):
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
        if not target.startswith(("http://", "https://")):
            assert (page.parent / target).exists(), f"{page.name} links to {target}, which is not there"
