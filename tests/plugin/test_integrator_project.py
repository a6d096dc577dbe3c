"""Issue 15's "done when": an integrator project outside this repository, in a virtual environment of its own
that installs the package (a wheel built from this checkout, installed by pip), writes
`def test_spend(loyalty_tenant): ...` with requests against the imonggo dialect, runs its own pytest, and
passes. Nothing is downloaded: the venv reaches the packages the package needs (aiohttp, pytest, requests)
through a .pth line naming this environment's site-packages, whose .pth files (the editable install of the
checkout among them) are not run from there, so `gateway` can only come from the installed wheel."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

TEST_SPEND = '''
from decimal import Decimal

import gateway
import requests


def test_spend(loyalty_tenant):
    imonggo = loyalty_tenant.imonggo
    answer = requests.post(f"{imonggo.base_url}/api/rewards.xml", auth=imonggo.auth,
                           params={"q": "spend", "customer_id": 1534, "amount": 10, "reference": "INV-1"})
    assert answer.status_code == 200, answer.text
    assert loyalty_tenant.balance(1534) == Decimal("28511")
    loyalty_tenant.verify(1, dialect="imonggo", path="/api/rewards.xml", method="POST")
    print("gateway imported from", gateway.__file__)
'''


def run(*args: str | Path, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS", "VIRTUAL_ENV")}
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_an_integrator_project_installs_the_package_and_its_test_spend_passes(tmp_path: Path) -> None:
    assert not tmp_path.resolve().is_relative_to(ROOT)
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp_path / "dist", ROOT, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("loyalty_gateway-*.whl")

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    installed = run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel,
                    cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path).stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")

    project = tmp_path / "shop"
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\nfilterwarnings = error\nasyncio_default_fixture_loop_scope = function\n",
                                        encoding="utf-8")
    (project / "test_spend.py").write_text(TEST_SPEND, encoding="utf-8")
    result = run(python, "-m", "pytest", "-s", "-p", "no:cacheprovider", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert f"gateway imported from {site / 'gateway' / '__init__.py'}" in result.stdout  # the wheel, not the checkout
    assert re.search(r"^plugins: .*loyalty-gateway-0\.1\.0", result.stdout, re.MULTILINE), result.stdout
