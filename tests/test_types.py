"""Type hints are checked where it is cheap: the modules whose types are plain (text, records, tables,
agreement, the model's data and storage). The others keep their hints as documentation."""

import pytest

from conftest import ROOT

CHECKED = ["text.py", "document.py", "archive.py", "cleaning.py", "textio.py", "tables.py", "speakers.py", "segment.py", "names.py",
           "codebook.py", "annotations.py", "agreement.py", "model/data.py", "model/calibration.py", "model/store.py",
           "model/scorer.py", "features.py", "stance.py"]


def test_the_plain_modules_type_check():
    api = pytest.importorskip("mypy.api", reason="mypy is a test dependency (make install)")
    out, err, status = api.run(["--ignore-missing-imports", "--follow-imports=silent", "--no-incremental", "--cache-dir=/dev/null",
                                *[str(ROOT / "ethos" / name) for name in CHECKED]])
    assert status == 0, out + err
