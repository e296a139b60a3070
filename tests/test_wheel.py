"""The package as users install it: a wheel that puts only ``crdb_dash`` into site-packages and builds the same
files as this repository, from any directory."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from crdb_dash import __version__
from crdb_dash.model import config
from crdb_dash.pipeline import build
from tests.conftest import ROOT


def test_the_wheel_installs_crdb_dash_alone_and_builds_the_committed_files(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path / "wheel"),
                    str(ROOT)], check=True, capture_output=True)
    (wheel,) = (tmp_path / "wheel").glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"crdb_dash", f"crdb_backup_dashboards-{__version__}.dist-info"}
    assert "crdb_dash/docs/runbooks.md" in names and "crdb_dash/dashboards/overview.py" in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([venv / "bin" / "pip", "install", "--quiet", "--no-deps", str(wheel)], check=True,
                   capture_output=True)
    # The dependencies come from this environment; the project itself only from the wheel.
    env = {"PYTHONPATH": sysconfig.get_paths()["purelib"], "PATH": "/usr/bin:/bin"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    cli = venv / "bin" / "crdb-dash"
    version = subprocess.run([cli, "--version"], capture_output=True, text=True, cwd=elsewhere, env=env)
    assert version.stdout.strip() == f"crdb-dash {__version__}"
    subprocess.run([cli, "build", "--out", "out"], check=True, capture_output=True, cwd=elsewhere, env=env)
    out = elsewhere / "out"
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == sorted(build.render(config.load()))
    for rel in written:
        assert (out / rel).read_bytes() == (ROOT / rel).read_bytes(), f"{rel} differs from the committed file"
    where = subprocess.run([venv / "bin" / "python", "-c", "import crdb_dash.dashboards as d; print(d.__file__)"],
                           capture_output=True, text=True, cwd=elsewhere, env=env).stdout
    assert Path(where.strip()).is_relative_to(venv)
