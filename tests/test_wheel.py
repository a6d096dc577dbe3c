"""A wheel built from this checkout carries the demo scenario, every contract document the server lists at
/__admin/contracts/ (byte-equal to what it serves) and the pinned contract cases; a server run from the wheel
alone (outside the checkout, without the editable install) finds the scenario and loads it. The documents
are built in Python and committed under <package>/documents/ for the wheel: a fast test holds the committed
files to what the server serves (LOYALTY_GATEWAY_WRITE_DOCUMENTS=1 rewrites them)."""
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

from gateway.admin import create_admin_app
from gateway.admin.contracts import CONTRACTS, Served
from gateway.app import DIALECT_LIST
from tests import process

ROOT = Path(__file__).resolve().parent.parent


def committed_paths() -> dict[str, Path]:
    """Where each document the server serves is committed: the admin API's under gateway/admin/documents,
    a dialect's under gateway/dialects/<its name>/documents."""
    owners = {doc.name: ROOT / "gateway/dialects" / d.name / "documents" for d in DIALECT_LIST
              if d.documents is not None for doc in d.documents.documents}
    served: dict[str, Served] = create_admin_app(DIALECT_LIST)[CONTRACTS]
    return {name: owners.get(name, ROOT / "gateway/admin/documents") / name for name in served}


def test_the_committed_documents_are_what_the_server_serves() -> None:
    served: dict[str, Served] = create_admin_app(DIALECT_LIST)[CONTRACTS]
    stale = []
    for name, path in committed_paths().items():
        if os.environ.get("LOYALTY_GATEWAY_WRITE_DOCUMENTS") == "1":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(served[name].body)
        if not path.is_file() or path.read_bytes() != served[name].body:
            stale.append(str(path.relative_to(ROOT)))
    assert not stale, f"stale or missing (run with LOYALTY_GATEWAY_WRITE_DOCUMENTS=1 and commit them): {stale}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this checkout, once for the module."""
    dist = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (found,) = dist.glob("loyalty_gateway-*.whl")
    return found


@pytest.mark.slow
def test_the_wheel_holds_the_pinned_cases(wheel: Path) -> None:
    pinned = sorted(ROOT.glob("fixtures/*/cases.json"))
    assert pinned, "no pinned cases to ship"
    with zipfile.ZipFile(wheel) as archive:
        for path in pinned:
            shipped = f"gateway/contracts/pinned/{path.parent.name}/cases.json"
            assert archive.read(shipped) == path.read_bytes(), shipped


@pytest.mark.slow
def test_the_wheel_holds_the_consoles_scripts_and_styles(wheel: Path) -> None:
    static = sorted((ROOT / "gateway/console/static").iterdir())
    assert {p.suffix for p in static} >= {".js", ".css"}
    with zipfile.ZipFile(wheel) as archive:
        for path in static:
            shipped = f"gateway/console/static/{path.name}"
            assert archive.read(shipped) == path.read_bytes(), shipped


@pytest.mark.slow
def test_the_installed_wheel_serves_the_demo_scenario_and_every_document_it_holds(wheel: Path, tmp_path: Path) -> None:
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
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/__admin/contracts/", timeout=5) as response:
            listed = json.load(response)["contracts"]
        assert listed
        for entry in listed:
            with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{entry['url']}", timeout=5) as response:
                body = response.read()
            (shipped,) = [n for n in names if n.startswith("gateway/") and n.endswith(f"/documents/{entry['name']}")]
            assert (tmp_path / "site" / shipped).read_bytes() == body, f"{shipped} is not what the server serves"
    finally:
        assert server.stop() == 0
    log = "".join(lines)
    assert f"loaded scenario {tmp_path / 'site' / 'gateway' / 'data' / 'demo.json'}" in log, log
