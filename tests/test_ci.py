"""`trackreport init-ci github|gitlab`: valid YAML with build, upload and deploy steps."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import trackreport
from trackreport.ci import CIError, workflow_text, write_workflow
from trackreport.cli import cli


def _init(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["init-ci", *args])
    return result.exit_code, result.output


def test_github_workflow_builds_uploads_deploys(tmp_path: Path) -> None:
    path = write_workflow("github", tmp_path)
    assert path == tmp_path / ".github" / "workflows" / "trackreport-pages.yml"
    flow = yaml.safe_load(path.read_text("utf-8"))
    assert flow["permissions"]["pages"] == "write" and flow["permissions"]["id-token"] == "write"
    build, deploy = flow["jobs"]["build"], flow["jobs"]["deploy"]
    uses = [s.get("uses", "") for s in build["steps"]]
    runs = [s.get("run", "") for s in build["steps"]]
    assert "actions/checkout@v6" in uses and "actions/configure-pages@v6" in uses
    assert "actions/upload-pages-artifact@v5" in uses
    upload = next(s for s in build["steps"] if s.get("uses", "").startswith(
        "actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "site"
    assert any(f"trackreport=={trackreport.__version__}" in r for r in runs)
    assert any(r.startswith("trackreport build --out site") for r in runs)
    assert any("trackreport summary" in r and "$GITHUB_STEP_SUMMARY" in r for r in runs)
    assert any(".trackreport-cache" in r for r in runs)
    # the build step comes before the upload, the summary between them
    order = [i for i, s in enumerate(build["steps"]) if "trackreport build" in s.get("run", "")
             or "upload-pages-artifact" in s.get("uses", "")]
    assert order == sorted(order) and len(order) == 2
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "github-pages"
    assert [s["uses"] for s in deploy["steps"]] == ["actions/deploy-pages@v5"]
    # `on:` is read by PyYAML 1.1 as True
    triggers = flow.get("on", flow.get(True))
    assert "push" in triggers and "workflow_dispatch" in triggers


def test_gitlab_pages_job(tmp_path: Path) -> None:
    path = write_workflow("gitlab", tmp_path)
    assert path == tmp_path / ".gitlab-ci.yml"
    flow = yaml.safe_load(path.read_text("utf-8"))
    job = flow["pages"]
    script = job["script"]
    assert any("trackreport build --out public" in s for s in script)
    assert any(s.startswith("trackreport summary") and "public/summary.md" in s for s in script)
    assert job["artifacts"]["paths"] == ["public"]
    assert flow["variables"]["TRACKREPORT_STORE"] == "trackruns"


def test_refuses_to_overwrite_without_force(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = _init("gitlab")
    assert code == 0 and "Wrote .gitlab-ci.yml" in out
    Path(".gitlab-ci.yml").write_text("mine\n")
    code, out = _init("gitlab")
    assert code == 1
    assert out == "Error: .gitlab-ci.yml exists; pass --force to replace it\n"
    assert Path(".gitlab-ci.yml").read_text() == "mine\n"
    code, out = _init("gitlab", "--force")
    assert code == 0
    assert Path(".gitlab-ci.yml").read_text() == workflow_text("gitlab")


def test_unknown_forge(tmp_path: Path) -> None:
    with pytest.raises(CIError, match="unknown forge 'bitbucket'"):
        write_workflow("bitbucket", tmp_path)
    code, out = _init("bitbucket")
    assert code == 2 and "bitbucket" in out
