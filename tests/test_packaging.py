"""provnews as an installed application: the wheel works outside the checkout (its registry and province
list are package data), the build is free of setuptools deprecation warnings, and the declared floors
are versions the suite runs with."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests import paths
from tests.paths import REPO

# what a checkout holds beside its tracked files: environments, caches, earlier builds, local data
LOCAL_ONLY = (
    ".git",
    ".venv",
    "build",
    "dist",
    "data",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
)


def run(args: list[str], cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """`args` in `cwd`, with `home` as HOME (caches written there are not the output)."""
    return subprocess.run(
        args,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"PATH": os.environ["PATH"], "HOME": str(home)},
    )


def test_the_wheel_runs_outside_the_checkout(tmp_path: Path) -> None:
    """Build the wheel (offline: the test venv's setuptools), install it alone into a new venv, and run
    `provnews sites check` and `provnews demo` from an empty folder. The new venv reads the other
    packages from the test venv's site-packages (a .pth line, whose own .pth files, the editable
    install's among them, Python does not process), so nothing is downloaded."""
    home = tmp_path / "home"
    home.mkdir()
    dist = tmp_path / "dist"
    # built from a copy: setuptools would also pack whatever an earlier build left in the checkout's build/
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*LOCAL_ONLY))
    built = run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-v",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(dist),
            ".",
        ],
        source,
        home,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    assert "Deprecat" not in built.stdout + built.stderr, "the build warns: " + built.stderr[-3000:]
    (wheel,) = dist.glob("provnews-*.whl")
    # one top-level module, so the install clashes with no other distribution's `crawler` or `pipelines`
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/")[0] for name in archive.namelist()}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"provnews"}

    venv = tmp_path / "venv"
    assert run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path, home).returncode == 0
    python = venv / "bin" / "python"
    installed = run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        tmp_path,
        home,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    purelib = run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp_path, home
    )
    Path(purelib.stdout.strip(), "provnews-test-deps.pth").write_text(
        sysconfig.get_path("purelib") + "\n", encoding="utf-8"
    )

    empty = tmp_path / "empty"
    empty.mkdir()
    where = run([str(python), "-c", "import provnews.config as c; print(c.__file__)"], empty, home)
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr
    generic = run([str(python), "-c", "import crawler"], empty, home)
    assert "No module named 'crawler'" in generic.stderr

    provnews = str(venv / "bin" / "provnews")
    checked = run([provnews, "sites", "check"], empty, home)
    assert checked.returncode == 0, checked.stderr
    assert "provnews/config/sites.toml: valid" in checked.stdout
    assert "units with an active site: 34/34" in checked.stdout

    demo = run([provnews, "demo", "--articles", "5"], empty, home)
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "ground truth: 15/15 articles match" in demo.stdout, demo.stdout
    # nothing left behind but the database (and its reserve file, room to record a run on a full
    # disk): no registry pointing at the replica's dead ports
    assert sorted(p.name for p in (empty / "data").iterdir()) == ["demo.sqlite3", "demo.sqlite3-reserve"]
    assert sorted(p.name for p in empty.iterdir()) == ["data"]


def test_declared_floors_are_met_by_the_tested_versions() -> None:
    """Every dependency (extras included) is installed at a version its specifier allows, and the
    floors are those versions' series (the suite runs with them; older ones are not tested)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [Requirement(r) for r in project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        requirements += [Requirement(r) for r in extra if not r.startswith("provnews")]
    for requirement in requirements:
        installed = version(requirement.name)
        assert requirement.specifier.contains(installed), f"{requirement} but {installed} is installed"
        floors = [s.version for s in requirement.specifier if s.operator == ">="]
        assert floors, f"{requirement} declares no floor"
    scrapy = next(r for r in requirements if r.name.lower() == "scrapy")
    assert scrapy.specifier.contains("2.19.0") and not scrapy.specifier.contains("2.18.9")


def test_missing_outside_data_skips_in_a_bare_clone_and_fails_in_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paths, "REAL_PAGES", tmp_path / "no-shared" / "fixtures" / "real")
    monkeypatch.delenv(paths.REQUIRE_SHARED, raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"shared test data not found: .*no-shared"):
        paths.shared_file("baocantho.com.vn/x.html")
    monkeypatch.setenv(paths.REQUIRE_SHARED, "1")
    with pytest.raises(pytest.fail.Exception, match=r"PROVNEWS_REQUIRE_SHARED=1: required here"):
        paths.shared_file("baocantho.com.vn/x.html")
    # with the folder there, a file missing from it is always a failure
    paths.REAL_PAGES.mkdir(parents=True)
    monkeypatch.delenv(paths.REQUIRE_SHARED)
    with pytest.raises(pytest.fail.Exception, match="shared test data missing"):
        paths.shared_file("baocantho.com.vn/x.html")


def test_ci_requires_the_services_a_bare_clone_may_lack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(paths.REQUIRE_SERVICES, raising=False)
    with pytest.raises(pytest.skip.Exception, match="systemd-analyze"):
        paths.missing("systemd-analyze not found", paths.REQUIRE_SERVICES)
    monkeypatch.setenv(paths.REQUIRE_SERVICES, "1")
    with pytest.raises(pytest.fail.Exception, match="systemd-analyze"):
        paths.missing("systemd-analyze not found", paths.REQUIRE_SERVICES)
