"""``lossbook`` as a reader installs it: a wheel with the package only, needing torch only.

``make dist`` builds the sdist and the wheel and checks them with ``twine check`` and
``check-wheel-contents``. This test does the same with the same tools, then installs the wheel
the way ``pip install "lossbook @ git+https://github.com/lossbook/lossbook"`` does in the end: into a
fresh virtual environment that holds nothing but torch (and what torch itself requires), with
``--no-index``, so pip must find every dependency of the wheel already there. Torch is not
installed again (about a gigabyte unpacked): the new environment gets links to the torch of
this one, with its ``.dist-info``, so pip sees it as installed. Then, in that environment, in
isolated mode, each public name of ``lossbook`` runs its docstring examples: a smoke example
for every name, with nothing of this checkout importable. The build and the install run in the
background pool (``tests/background.py``), started with the session.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.background import in_background, once

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(*command: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(c) for c in command], cwd=cwd or ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONNOUSERSITE": "1"},
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


def build_dist(out: Path) -> Path:
    # --no-isolation: the pinned setuptools of this environment, nothing fetched
    run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT)
    return out


def shared_dist(out: Path) -> Path:
    """The sdist and the wheel, built once per session, into ``out`` of the first to ask (the
    install job in the background pool, or the first test here)."""
    return once("dist", lambda: build_dist(out))


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_dist(tmp_path_factory.mktemp("dist"))


def the_wheel(dist: Path) -> Path:
    (wheel,) = dist.glob("lossbook-*.whl")
    return wheel


def test_twine_and_check_wheel_contents_accept_the_distributions(dist: Path) -> None:
    assert len(list(dist.glob("lossbook-*.tar.gz"))) == 1
    run(BIN / "twine", "check", "--strict", *sorted(dist.iterdir()))
    run(BIN / "check-wheel-contents", the_wheel(dist))


def test_wheel_holds_the_package_and_only_it(dist: Path) -> None:
    names = zipfile.ZipFile(the_wheel(dist)).namelist()
    top = {name.split("/")[0] for name in names}
    info = {t for t in top if t.endswith(".dist-info")}
    assert top - info == {"lossbook"}, f"the wheel holds more than the package: {sorted(top - info)}"
    modules = {Path(n).name for n in names if n.startswith("lossbook/")}
    sources = {p.name for p in (ROOT / "lossbook").glob("*.py")}
    assert modules == sources, f"wheel {sorted(modules)} != sources {sorted(sources)}"


def test_sdist_holds_the_package_and_its_metadata(dist: Path) -> None:
    (sdist,) = dist.glob("lossbook-*.tar.gz")
    with tarfile.open(sdist) as archive:
        top = {Path(name).parts[1] for name in archive.getnames() if len(Path(name).parts) > 1}
    allowed = {"PKG-INFO", "README.md", "pyproject.toml", "setup.cfg", "MANIFEST.in", "lossbook", "lossbook.egg-info"}
    assert top <= allowed, f"the sdist holds {sorted(top - allowed)}"
    assert "lossbook" in top


def test_wheel_metadata_requires_torch_only(dist: Path) -> None:
    with zipfile.ZipFile(the_wheel(dist)) as wheel:
        (metadata,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        text = wheel.read(metadata).decode()
    requirements = [Requirement(line.split(":", 1)[1].strip()) for line in text.splitlines() if line.startswith("Requires-Dist:")]
    always = [r for r in requirements if r.marker is None or "extra" not in str(r.marker)]
    assert [r.name for r in always] == ["torch"], f"installing lossbook pulls in {[str(r) for r in always]}"
    extras = re.findall(r"^Provides-Extra: (\S+)", text, re.MULTILINE)
    assert {"plot", "train"} <= set(extras), extras
    assert re.search(r"^Project-URL: Source, https://github.com/lossbook/lossbook$", text, re.MULTILINE)


def closure(*names: str) -> list[importlib.metadata.Distribution]:
    """These distributions and all they require (markers evaluated, no extras), installed here."""
    found: dict[str, importlib.metadata.Distribution] = {}
    todo = list(names)
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in found:
            continue
        dist = importlib.metadata.distribution(name)
        found[key] = dist
        for line in dist.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return list(found.values())


def link(site_packages: Path, *names: str) -> None:
    """Make these distributions (and their requirements) of this environment installed there."""
    for dist in closure(*names):
        entries = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        for entry in entries:
            source = Path(dist.locate_file(entry))
            if source.exists() and not (site_packages / entry).exists():
                (site_packages / entry).symlink_to(source)


# Public names documented as needing an extra, and that extra: run once the extra is installed.
NEEDS_EXTRA = {"fit": "train"}

SMOKE = r"""
import doctest, json, sys
import lossbook

assert lossbook.__file__.startswith(sys.prefix), f"lossbook imported from {lossbook.__file__}"
public = getattr(lossbook, "__all__", None) or sorted(
    name for name, value in vars(lossbook).items()
    if not name.startswith("_") and getattr(value, "__module__", "").startswith("lossbook")
)
only, leave_out = json.loads(sys.argv[1]), json.loads(sys.argv[2])
public = [name for name in public if (not only or name in only) and name not in leave_out]
finder, failed = doctest.DocTestFinder(), []
for name in public:
    value = getattr(lossbook, name)
    module = sys.modules[value.__module__]
    tests = [t for t in finder.find(value, name, module=module, globs=dict(vars(module))) if t.examples]
    if not tests:
        failed.append(f"{name}: no example to run")
    for test in tests:
        runner = doctest.DocTestRunner()
        runner.run(test, out=sys.stdout.write)
        if runner.failures:
            failed.append(f"{test.name}: {runner.failures} failures")
print("ran", ", ".join(public))
print("heavy modules:", sorted(m for m in ("matplotlib", "tqdm", "torchmetrics") if m in sys.modules))
assert not failed, failed
"""


def pip(python: Path, *arguments: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    """This environment's pip, working on another one (no pip installed there)."""
    return run(sys.executable, "-m", "pip", "--python", python, *arguments, cwd=cwd)


def install_and_run(workdir: Path) -> None:
    """Install the wheel into a fresh environment with torch only, and run every public name."""
    dist, tmp_path = shared_dist(workdir / "dist"), workdir
    env = tmp_path / "env"
    venv.create(env, with_pip=False, symlinks=True)
    python = env / "bin" / "python"
    (site_packages,) = (env / "lib").glob("python3*/site-packages")
    link(site_packages, "torch")
    wheel = the_wheel(dist)
    pip(python, "install", "--no-index", "--quiet", wheel, cwd=tmp_path)
    assert not any((site_packages / name).exists() for name in ("tqdm", "matplotlib", "torchmetrics"))
    result = run(python, "-I", "-c", SMOKE, "[]", json.dumps(sorted(NEEDS_EXTRA)), cwd=tmp_path)
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "heavy modules: []", lines[-1]  # torch only: no extra was imported
    assert lines[-2].startswith("ran ") and "focal_loss" in lines[-2], lines[-2]

    # The names that need an extra, once `pip install "lossbook[extra]"` has found it.
    for extra in sorted(set(NEEDS_EXTRA.values())):
        requirements = [
            Requirement(line) for line in importlib.metadata.distribution("lossbook").requires or []
        ]
        wanted = [r.name for r in requirements if r.marker and r.marker.evaluate({"extra": extra})]
        assert wanted, f"lossbook has no {extra!r} extra"
        link(site_packages, *wanted)
        pip(python, "install", "--no-index", "--quiet", f"{wheel}[{extra}]", cwd=tmp_path)
        names = sorted(name for name, needed in NEEDS_EXTRA.items() if needed == extra)
        result = run(python, "-I", "-c", SMOKE, json.dumps(names), "[]", cwd=tmp_path)
        assert result.stdout.strip().splitlines()[-2] == f"ran {', '.join(names)}"


@in_background(install_and_run)
def test_wheel_installs_with_torch_only_and_every_public_name_runs(background_job) -> None:
    """The work is :func:`install_and_run`, done in the background pool; its failures fail here."""
    background_job.result()
