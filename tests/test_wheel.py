"""A wheel built from this checkout carries the demo scenario, and a server run from the wheel alone
(outside the checkout, without the editable install) finds it and loads it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests import process

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_installed_wheel_serves_the_demo_scenario(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("loyalty_gateway-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert "gateway/data/demo.json" in names and "gateway/data/scenario.schema.json" in names
        shipped = json.loads(archive.read("gateway/data/demo.json"))
        archive.extractall(tmp_path / "site")
    assert shipped == json.loads((ROOT / "fixtures/scenarios/demo.json").read_text(encoding="utf-8"))

    run_dir = tmp_path / "elsewhere"
    run_dir.mkdir()
    # -S: no site processing, so the editable install of the checkout cannot be found; only the
    # unpacked wheel and the third-party packages are on the path.
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), sysconfig.get_paths()["purelib"]])}
    proc = subprocess.Popen(
        [sys.executable, "-S", "-m", "gateway", "serve", "--port", "0"], cwd=run_dir, env={**os.environ, **env},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    server = process.Server(proc, "127.0.0.1", 0)
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        match = process.LISTENING.search(line)
        if match:
            server.port = int(match.group(2))
            break
    try:
        assert server.port, "".join(lines)
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/__admin/health", timeout=5) as response:
            assert json.load(response)["status"] == "ok"
    finally:
        assert server.stop() == 0
    log = "".join(lines)
    assert f"loaded scenario {tmp_path / 'site' / 'gateway' / 'data' / 'demo.json'}" in log, log
