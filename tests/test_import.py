"""`import trackreport` stays light: no pandas, altair, jinja2 or GitPython on the logging path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).parent.parent / "src")
HEAVY = ["pandas", "altair", "jinja2", "git", "numpy", "markdown", "nh3", "vl_convert", "lark",
         "skops", "joblib", "sklearn", "filelock"]


def test_import_and_logging_path_import_no_heavy_modules(tmp_path: Path) -> None:
    script = f"""
import json, sys
import trackreport as tr
tr.set_store({str(tmp_path / 's')!r})
with tr.start_run(name="light") as run:
    tr.log_param("p", 1)
    tr.log_metric("m", 0.5)
    tr.log_metrics({{"a": 1.0}})
    tr.set_tag("t", "v")
    tr.note("n")
    tr.log_text("x", "x.txt")
    tr.log_dict({{"a": 1}}, "c.json")
print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))
"""
    env = {**os.environ, "PYTHONPATH": SRC}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=env, check=True, cwd=tmp_path)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
