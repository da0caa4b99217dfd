"""The GitHub workflows: valid, tests on every push and pull request, deployment after them.

Validity: ``check-jsonschema`` with the GitHub workflow schema it ships (SchemaStore's, vendored
in the package: nothing is fetched). On top of the schema, what the project relies on: the test
workflow runs ``.ci/run`` (``make test`` with ``REQUIRE_BROWSER=1``) on every push and pull
request with torch from PyTorch's CPU index, and the Pages workflow runs only after that
workflow succeeded on a push to ``main``, deploying the commit that was tested.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def load(name: str) -> dict:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8"))
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads the key `on` as True
    return workflow


def test_workflows_match_the_github_workflow_schema() -> None:
    assert {p.name for p in WORKFLOWS} >= {"test.yml", "pages.yml"}
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    step:\n      - run: make\n")
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", str(broken)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0


def test_tests_run_on_every_push_and_pull_request_with_the_browser_required() -> None:
    workflow = load("test.yml")
    assert "push" in workflow["on"] and "pull_request" in workflow["on"]
    assert workflow["on"]["push"] is None and workflow["on"]["pull_request"] is None  # no filter
    (job,) = workflow["jobs"].values()
    assert job["env"]["REQUIRE_BROWSER"] == "1"
    assert job["env"]["TORCH_INDEX_URL"] == CPU_INDEX
    assert any(step.get("run") == "bash .ci/run" for step in job["steps"])
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "chromium-headless-shell" in ci and "make test" in ci and "REQUIRE_BROWSER=1" in ci


def test_pages_deploy_only_after_the_tests_passed_on_main() -> None:
    tests = load("test.yml")
    pages = load("pages.yml")
    trigger = pages["on"]
    assert set(trigger) == {"workflow_run"}, f"pages.yml must run only after the tests: {trigger}"
    assert trigger["workflow_run"]["workflows"] == [tests["name"]]
    assert trigger["workflow_run"]["branches"] == ["main"]
    assert trigger["workflow_run"]["types"] == ["completed"]
    build, deploy = pages["jobs"]["build"], pages["jobs"]["deploy"]
    assert "github.event.workflow_run.conclusion == 'success'" in build["if"]
    assert "github.event.workflow_run.event == 'push'" in build["if"]
    checkout = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["ref"] == "${{ github.event.workflow_run.head_sha }}"
    assert deploy["needs"] == "build"
    assert build["env"]["TORCH_INDEX_URL"] == CPU_INDEX


def test_makefile_passes_the_torch_index_to_pip() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "TORCH_INDEX_URL ?=\n" in makefile  # empty by default: installs here are unchanged
    assert "--extra-index-url $(TORCH_INDEX_URL)" in makefile
    # A clean environment: CI sets TORCH_INDEX_URL, and a parent `make` passes MAKEFLAGS.
    env = {k: v for k, v in os.environ.items() if k not in ("TORCH_INDEX_URL", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}

    def dry_run(*arguments: str) -> str:
        command = ["make", "-n", "-B", ".venv/.installed", *arguments]
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60).stdout

    assert f"--extra-index-url {CPU_INDEX}" in dry_run(f"TORCH_INDEX_URL={CPU_INDEX}")
    default = dry_run()
    assert "pip install" in default and "--extra-index-url" not in default, default
