"""Things every build makes the same way are kept between builds on this machine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from trackreport.site import derived
from trackreport.site.themes import make_environment, resolve_theme

SRC = str(Path(__file__).resolve().parent.parent / "src")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRACKREPORT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "site"


def test_made_once_then_read_and_a_torn_file_is_made_again(cache: Path) -> None:
    made: list[int] = []

    def make() -> str:
        made.append(1)
        return "spec ü\n"

    assert derived.remembered("thing", ["v1"], make) == "spec ü\n"
    assert derived.remembered("thing", ["v1"], make) == "spec ü\n"
    assert len(made) == 1
    (file,) = cache.glob("thing-*.txt")
    file.write_bytes(file.read_bytes()[:-3])  # torn
    assert derived.remembered("thing", ["v1"], make) == "spec ü\n"
    assert len(made) == 2
    derived.remembered("thing", ["v2"], make)  # another key: another file
    assert len(made) == 3 and len(list(cache.glob("thing-*.txt"))) == 2
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # no temp files left


def test_an_unwritable_cache_only_means_making_it_again(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("TRACKREPORT_CACHE", str(blocker / "cache"))
    assert derived.remembered("thing", [], lambda: "x") == "x"
    assert derived.template_cache() is None
    env = make_environment(resolve_theme(None))
    assert env.bytecode_cache is None
    assert env.get_template("_partials.html").module is not None


def test_compiled_templates_are_reused_and_never_unpickled(cache: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    import pickle

    import jinja2

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("unpickled")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    theme = resolve_theme(None)
    first = make_environment(theme).get_template("_partials.html")
    assert list((cache / "templates").glob("*.code"))
    compiled: list[str] = []
    real = jinja2.Environment.compile

    def counting(self: jinja2.Environment, source: str, *args: object, **kw: object) -> object:
        compiled.append(source)
        return real(self, source, *args, **kw)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    second = make_environment(theme).get_template("_partials.html")
    assert compiled == []  # read from the cache
    assert second.module.__dict__.keys() == first.module.__dict__.keys()
    for file in (cache / "templates").glob("*.code"):  # another Python or jinja2: made again
        file.write_bytes(b"0000 0.0 x\n" + file.read_bytes().partition(b"\n")[2])
    make_environment(theme).get_template("_partials.html")
    assert compiled


def test_a_warm_cache_never_runs_vl_convert(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": SRC, "TRACKREPORT_CACHE": str(tmp_path / "cache")}
    code = ("import sys, hashlib\n"
            "if sys.argv[1] == 'warm':\n"
            "    import vl_convert\n"
            "    def refuse(*a, **k): raise AssertionError('bundle made again')\n"
            "    vl_convert.javascript_bundle = refuse\n"
            "from trackreport.site.assets import bundle_text\n"
            "print(hashlib.sha256(bundle_text().encode()).hexdigest())\n")
    runs = [subprocess.run([sys.executable, "-c", code, mode], capture_output=True, text=True,
                           env=env, check=False) for mode in ("cold", "warm")]
    assert [r.returncode for r in runs] == [0, 0], runs[1].stderr
    assert runs[0].stdout == runs[1].stdout and len(runs[0].stdout.strip()) == 64
