"""The built wheel works on its own: it holds every module and every file the app loads
at run time, and, installed into a fresh venv and run from outside the checkout, it
answers ``--version``, ``snapshot --demo --json`` and starts the app with its stylesheet.

Slow-ish (a wheel build and a venv; the dependencies come from the package index
through pip's cache): about 30-60 s. It runs in ``make test`` on purpose: a missing
package-data entry only shows in an installed copy, never in the editable checkout.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tui"

STARTS_THE_APP = """
import asyncio, sys
import tui
from tui.app import VectrosUsageApp
from tui.client import Secret
from tui.config import Settings
from tui.simulator import DEMO_TOKEN, Simulator

async def main() -> None:
    with Simulator(port=0, speed=0) as sim:
        settings = Settings(base_url=sim.base_url, token=Secret(DEMO_TOKEN), demo=True)
        app = VectrosUsageApp(settings)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause(0.5)
            sources = [str(key[0]) for key in app.stylesheet.source]
            print(tui.__file__)
            print("\\n".join(s for s in sources if s.endswith(".tcss")))
            await pilot.press("q")

asyncio.run(main())
"""


def runtime_files() -> set[str]:
    """Every module, and each file the code names for loading (a CSS_PATH)."""
    wanted = {f"tui/{p.relative_to(PACKAGE).as_posix()}" for p in PACKAGE.rglob("*.py")}
    wanted |= {"tui/py.typed", "tui/app.tcss"}
    for module in PACKAGE.rglob("*.py"):
        for name in re.findall(r'CSS_PATH\s*=\s*"([^"]+)"', module.read_text()):
            wanted.add((module.parent / name).relative_to(ROOT).as_posix())
    return wanted


def test_the_wheel_installs_and_runs_outside_the_checkout(tmp_path: Path) -> None:
    # Build from a clean copy: setuptools reuses a build/ directory, which could hide a
    # deleted module (or carry a stale one) into the wheel.
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis",
            ".git", "tests", "bench", "screenshots", "docs", "scripts",
        ),
    )  # fmt: skip
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(wheels)],
        check=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("vectros_usage-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = runtime_files() - names
    assert not missing, f"not in the wheel: {sorted(missing)}"
    assert not any(n.startswith("tests/") for n in names)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python, command = venv / "bin" / "python", venv / "bin" / "vectros-usage"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True, timeout=600)
    work = tmp_path / "elsewhere"
    work.mkdir()
    # No PYTHONPATH and a cwd outside the checkout: only the installed copy can answer.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VECTROS_"))}
    env["VECTROS_USAGE_STATE_DIR"] = str(tmp_path / "state")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args, cwd=work, env=env, capture_output=True, text=True, timeout=120, check=False
        )

    version = run(str(command), "--version")
    assert version.returncode == 0 and version.stdout.startswith("vectros-usage 0."), version
    snap = run(str(command), "snapshot", "--demo", "--json", "--speed", "0")
    assert snap.returncode == 0, snap.stderr
    assert isinstance(json.loads(snap.stdout)["credits"]["usedMilli"], int)
    line = run(str(command), "line", "--demo")
    assert line.returncode == 0 and line.stdout.startswith("vectros "), line

    started = run(str(python), "-c", STARTS_THE_APP)
    assert started.returncode == 0, started.stderr
    where, *stylesheets = started.stdout.split()
    installed = venv.resolve()
    assert Path(where).resolve().is_relative_to(installed), where
    assert stylesheets, "the app loaded no stylesheet"
    assert all(Path(s).resolve().is_relative_to(installed) for s in stylesheets), stylesheets
