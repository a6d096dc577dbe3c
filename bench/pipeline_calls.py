"""What the request path costs in interpreter work, counted rather than timed: Python function calls per
request (client and server in one process, cProfile's count) for an admin route the pipeline does not
touch (the baseline: aiohttp's client and server), an imonggo read refused before any ledger work (the
request path alone) and an imonggo customer read, for each checkout given. A count does not move with
the machine's load, so it compares two versions where timings on a shared machine cannot.

    .venv/bin/python bench/pipeline_calls.py [--source /work/main] [--source .] [--requests 500]

Each checkout runs in its own process with its gateway/ package first on the path."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
COUNT = r"""
import asyncio, base64, cProfile, io, json, pstats, sys, tempfile
from aiohttp.test_utils import TestClient, TestServer
from gateway.app import create_app
from gateway.settings import Settings
AUTH = {"Authorization": "Basic " + base64.b64encode(b"5c4fc5805eb643716bbc17dad456a0c6cf2e23fa:X").decode()}
async def main(n):
    app = create_app(Settings.defaults().replace(database=f"sqlite:///{tempfile.mkdtemp()}/c.db", access_log=False))
    client = TestClient(TestServer(app))
    await client.start_server()
    issued = await client.post("/oauth/token", json={"client_id": "demo-client-id", "client_secret": "demo-client-secret",
                                                     "audience": "https://api.pomelo.la", "grant_type": "client_credentials"})
    bearer = {"Authorization": "Bearer " + (await issued.json())["access_token"]}
    sides = (("admin health (baseline)", "/__admin/health", {}), ("imonggo refused (401)", "/api/customers/1534.xml", {}),
             ("imonggo customer read", "/api/customers/1534.xml", AUTH),
             ("memberpoints balances", "/webapps/api/memberpointsbalances", {"apiID": "demo-api-id", "apiKey": "demo-api-key"}),
             ("pomelo balance", "/loyalty/v1/accounts/balance?card_id=crd-2ay34Uk2fseMY5l3OwddSRX8iR4", bearer))
    found = {}
    for name, path, headers in sides:
        for _ in range(100):
            await (await client.get(path, headers=headers)).read()
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(n):
            await (await client.get(path, headers=headers)).read()
        profile.disable()
        found[name] = pstats.Stats(profile, stream=io.StringIO()).total_calls / n
    await client.close()
    import gateway
    found["from"] = gateway.__file__
    print(json.dumps(found))
asyncio.run(main(int(sys.argv[1])))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", action="append", type=Path, help="a checkout whose gateway/ to count (repeatable)")
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    results = {}
    for source in [s.resolve() for s in (args.source or [HERE])]:
        env = {**os.environ, "PYTHONPATH": str(source)}
        with tempfile.TemporaryDirectory() as elsewhere:  # not this checkout: `-c` puts the cwd first on the path
            out = subprocess.run([sys.executable, "-c", COUNT, str(args.requests)], env=env, cwd=elsewhere,
                                 capture_output=True, text=True, check=True).stdout
        counts = json.loads(out.strip().splitlines()[-1])
        assert counts.pop("from").startswith(str(source)), f"counted another checkout than {source}"
        results[source.name] = counts
    sides = list(next(iter(results.values())))
    print("Python function calls per request (client + server), and beyond the baseline (the gateway's own)")
    print(f"{'side':<26}" + "".join(f"{name:>22}" for name in results))
    for side in sides:
        cells = []
        for counts in results.values():
            own = counts[side] - counts[sides[0]]
            cells.append(f"{counts[side]:>10.0f} ({own:>+5.0f})" if side != sides[0] else f"{counts[side]:>18.0f}")
        print(f"{side:<26}" + "".join(f"{c:>22}" for c in cells))


if __name__ == "__main__":
    main()
