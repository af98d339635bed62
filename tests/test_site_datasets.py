"""The run page shows the data sets a run used (``log_input``), escaped, odd fields tolerated."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from bs4 import BeautifulSoup

import trackreport as tr
import trackreport.mlflow as mlflow
from trackreport.site.build import build_site

HOSTILE = "<script>alert(1)</script> wine"


def _page(site: Path, run_id: str) -> BeautifulSoup:
    return BeautifulSoup((site / "runs" / run_id / "index.html").read_text("utf-8"),
                         "html.parser")


def test_run_page_lists_the_data_sets(store: Path, tmp_path: Path) -> None:
    df = pd.DataFrame({"alcohol": [13.2, 12.8, 14.1], "label": [0, 1, 1]})
    with tr.start_run(name="with-data") as run:
        mlflow.log_input(mlflow.data.from_pandas(df, name=HOSTILE), context="training")
        mlflow.log_input(mlflow.data.from_numpy(np.zeros((4, 2)), name="grid"),
                         context="evaluation")
    build_site(store, tmp_path / "site")
    page = _page(tmp_path / "site", run.id)
    section = page.find("section", attrs={"aria-labelledby": "datasets-heading"})
    assert section is not None and section.h2.get_text() == "Data used"
    heads = [h.get_text(" ", strip=True) for h in section.find_all("h3")]
    assert heads[0].startswith(HOSTILE) and "3 rows, used for training" in heads[0]
    assert "4 rows, used for evaluation" in heads[1]
    assert not section.find("script")  # the name was escaped, not run
    columns = [th.get_text() for th in section.find_all("table")[0].find_all("th", scope="row")]
    assert columns == ["alcohol", "label"]


def test_a_malformed_dataset_event_does_not_break_the_page(store: Path, tmp_path: Path) -> None:
    with tr.start_run(name="odd") as run:
        pass
    odd = {"type": "dataset", "time": time.time(), "name": 7, "rows": "many",
           "schema": {"type": "dataframe", "columns": "x"}, "context": ["a"]}
    (store / "runs" / run.id / "events-odd-1.jsonl").write_text(
        json.dumps({"type": "open", "format": 1, "writer": "odd-1", "time": time.time()})
        + "\n" + json.dumps(odd) + "\n")
    build_site(store, tmp_path / "site")
    section = _page(tmp_path / "site", run.id).find(
        "section", attrs={"aria-labelledby": "datasets-heading"})
    assert section is not None and "unnamed data set" in section.get_text()
