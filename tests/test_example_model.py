"""A script loads the committed example's champion by name (models:/...@champion) and predicts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STORE = ROOT / "examples" / "trackruns"
SRC = str(ROOT / "src")

pytest.importorskip("sklearn")
pytest.importorskip("skops")

SCRIPT = """
import json, sys
import trackreport as tr
from sklearn.datasets import load_breast_cancer

tr.set_store(sys.argv[1])
model = tr.load_model("models:/tumour-classifier@champion")
X, y = load_breast_cancer(return_X_y=True, as_frame=True)
predicted = model.predict(X)
version = tr.get_model_version("tumour-classifier", "latest")
print(json.dumps({"accuracy": float((predicted == y).mean()), "n": len(predicted),
                  "classes": sorted(int(c) for c in set(predicted)),
                  "version": version.version, "aliases": version.aliases,
                  "run_id": version.run_id}))
"""


def test_a_script_loads_the_champion_and_predicts(tmp_path: Path) -> None:
    before = sorted(p.relative_to(STORE).as_posix() for p in STORE.rglob("*"))
    env = {**os.environ, "PYTHONPATH": SRC}
    env.pop("TRACKREPORT_STORE", None)
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(STORE)], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got["n"] == 569 and got["classes"] == [0, 1]
    assert got["accuracy"] > 0.95  # the winner of the sweep, on all 569 tumours
    assert got["version"] == 1 and got["aliases"] == ["champion"]

    import trackreport as tr

    winner = tr.get_run(got["run_id"], store=STORE)
    assert winner.tags.get("stage") == "winner"
    # loading reads the store and writes nothing into it
    assert sorted(p.relative_to(STORE).as_posix() for p in STORE.rglob("*")) == before
