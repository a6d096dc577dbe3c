"""Rows on the big database (1,000,000 members; fewer with --quick): seeding time; balances and history
pages at offset N-200 against offset 0 (the first time and repeated); writes alone against writes beside
reads (one member's imonggo customer or memberpoints balance); cold start to the first 200; RSS after
--soak-minutes of that mixed load. n/a while `seed --generate` does not exist and no database is kept."""
from __future__ import annotations

import base64
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .. import big_database
from ..context import Context
from ..harness import Load, Server, alternate, http, median, paired_ratio, wait_idle, wrk
from ..report import Measure, ms, rate

PAGE = 200
ROW_NAMES = ("seed", "paging", "mixed", "coldstart", "soak")


def run(ctx: Context, wanted: list[str]) -> list[Measure]:
    n = f"{ctx.members:,}"
    targets = {
        "seed": (f"{n} members: seeding", "<= 60 s, with a progress line"),
        "paging": (f"balances page at offset {ctx.members - PAGE:,} vs 0 / history page the same", ">= 0.5x, first time too"),
        "mixed": (f"mixed load on {n} members: writes under reads vs writes alone", ">= 0.5x"),
        "coldstart": (f"cold start to first 200 on {n} members", "<= 0.3 s"),
        "soak": (f"RSS after {ctx.soak_minutes:g} min of mixed load on {n} members", "<= 150 MB"),
    }
    if ctx.rebuild:
        big_database.forget(ctx.database_dir, ctx.members)
    if not big_database.kept(ctx.database_dir, ctx.members) and not big_database.generator_available():
        return [Measure(targets[row][0], "n/a (seed --generate not available)", targets[row][1], None)
                for row in ROW_NAMES if row in wanted]
    big = big_database.ensure(ctx.database_dir, ctx.members)
    auth = memberpoints_auth(big.credentials)
    measures: list[Measure] = []
    if "seed" in wanted:
        how = "built in this run" if big.built_now else f"when built, {big.built_at}"
        seconds_ok = big.seed_seconds <= 60 and big.progress_lines > 0
        measures.append(Measure(targets["seed"][0], f"{big.seed_seconds:,.1f} s ({how}; {big.progress_lines} progress lines)",
                                targets["seed"][1], seconds_ok, {"seconds": big.seed_seconds, "progress_lines": big.progress_lines}))
    if wanted == ["seed"]:
        return measures
    database = big.copy_into(ctx.workdir)
    server = ctx.gateway(database)
    try:
        server.start(timeout=300)
        if "paging" in wanted:  # first: no deep page may have been asked before its "first time"
            measures += [_paging(ctx, server.base, auth, listing, label) for listing, label in
                         (("memberpointsbalances", "balances"), ("memberpoints", "history"))]
        ids = _member_ids(server.base, auth, ctx.members)
        if "mixed" in wanted:
            measures.append(_mixed(ctx, server, big.credentials, ids, *targets["mixed"]))
        if "coldstart" in wanted or "soak" in wanted:
            server.stop()
            server = _cold_starts(ctx, database, auth, ids[0], measures, targets["coldstart"], "coldstart" in wanted)
        if "soak" in wanted:
            measures.append(_soak(ctx, server, big.credentials, ids, *targets["soak"]))
    finally:
        server.stop()
    return measures


def _member_ids(base: str, auth: dict[str, str], members: int) -> list[int]:
    ids: list[int] = []
    for offset in (0, members // 2, max(members - PAGE, 0)):
        status, body = http("GET", f"{base}/webapps/api/memberpointsbalances?offset={offset}&pageSize={PAGE}", headers=auth)
        if status != 200:
            raise RuntimeError(f"balances at offset {offset} answered {status}: {body[:200]!r}")
        ids += [row["mbr_id"] for row in json.loads(body)["data"]]
    return ids


def _timed_page(url: str, auth: dict[str, str]) -> tuple[float, int]:
    started = time.perf_counter()
    status, body = http("GET", url, headers=auth, timeout=120)
    elapsed = time.perf_counter() - started
    if status != 200:
        raise RuntimeError(f"{url} answered {status}: {body[:200]!r}")
    return elapsed * 1000, int(json.loads(body)["resultCount"])


def _paging(ctx: Context, base: str, auth: dict[str, str], listing: str, label: str) -> Measure:
    deep = ctx.members - PAGE
    url = f"{base}/webapps/api/{listing}?pageSize={PAGE}&offset="
    found = alternate({"zero": lambda: _timed_page(url + "0", auth), "deep": lambda: _timed_page(url + str(deep), auth)},
                      max(ctx.rounds, 2))
    zero = median([t for t, _ in found["zero"]])
    first, repeated = found["deep"][0][0], median([t for t, _ in found["deep"][1:]])
    rows = found["deep"][0][1]
    ratio_first, ratio_repeated = zero / first, zero / repeated
    now = (f"first {ratio_first:.2f}x ({ms(first)}), repeated {ratio_repeated:.2f}x ({ms(repeated)}); "
           f"offset 0: {ms(zero)}")
    if rows == 0:
        now += "; the deep page was EMPTY"
    return Measure(f"{label} page at offset {deep:,} vs offset 0 [{ctx.members:,} members]", now,
                   ">= 0.5x, first time too", rows > 0 and min(ratio_first, ratio_repeated) >= 0.5,
                   {"offset0_ms": zero, "first_ms": first, "repeated_ms": repeated, "ratio_first": ratio_first,
                    "ratio_repeated": ratio_repeated, "deep_rows": rows})


def _cycling(ids: list[int], method: str, paths_and_bodies: str, auth: dict[str, str]) -> str:
    """A wrk script walking the member ids, so no row is the only one touched."""
    headers = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in {**auth, "Content-Type": "application/json"}.items())
    return f"""wrk.method = "{method}"
{headers}
local ids = {{{",".join(str(i) for i in ids)}}}
local n = 0
request = function()
  n = n + 1
  local id = ids[(n % #ids) + 1]
{paths_and_bodies}
end
"""


def mixed_loads(base: str, credentials: dict[str, dict[str, str]], ids: list[int]) -> tuple[Load, Load]:
    """(reads, writes): one member's imonggo customer XML or memberpoints balance, alternately (their ids
    are the same numbers in a generated tenant); a 1-point memberpoints credit to a member."""
    auth = memberpoints_auth(credentials)
    basic = "Basic " + base64.b64encode(f"{credentials['imonggo']['api_token']}:X".encode()).decode()
    reads = _cycling(ids, "GET", f"""  if n % 2 == 0 then
    return wrk.format(nil, "/webapps/api/memberpointsbalances?mbr_id=" .. id)
  end
  return wrk.format(nil, "/api/customers/" .. id .. ".xml", {{["Authorization"] = "{basic}"}})""", auth)
    writes = _cycling(ids, "POST", """  return wrk.format(nil, nil, nil,
    '{"mbr_id": ' .. id .. ', "adjustpoints": 1, "adjustmentnote": "bench mixed"}')""", auth)
    return Load(f"{base}/webapps/api/memberpointsbalances", lua=reads), Load(f"{base}/webapps/api/memberpoints", lua=writes)


def memberpoints_auth(credentials: dict[str, dict[str, str]]) -> dict[str, str]:
    return {"apiID": str(credentials["memberpoints"]["api_id"]), "apiKey": str(credentials["memberpoints"]["api_key"])}


def _together(reads: Load, writes: Load, seconds: int):  # type: ignore[no-untyped-def]
    with ThreadPoolExecutor(2) as pool:
        reading = pool.submit(wrk, reads, seconds=seconds, connections=32)
        written = wrk(writes, seconds=seconds, connections=32)
        return reading.result(), written


def _mixed(ctx: Context, server: Server, credentials: dict[str, dict[str, str]], ids: list[int], name: str,
           target: str) -> Measure:
    reads, writes = mixed_loads(server.base, credentials, ids)
    wrk(writes, seconds=1, connections=32)  # warm-up

    def alone():  # type: ignore[no-untyped-def]
        wait_idle(server)
        return wrk(writes, seconds=ctx.seconds, connections=32)

    def mixed():  # type: ignore[no-untyped-def]
        wait_idle(server)
        return _together(reads, writes, ctx.seconds)

    found = alternate({"alone": alone, "mixed": mixed}, ctx.rounds)
    alone = [r.rate for r in found["alone"]]
    under = [w.rate for _, w in found["mixed"]]
    ratio = paired_ratio(under, alone)
    p50 = median([w.p50_ms for _, w in found["mixed"]])
    read_rate = median([r.rate for r, _ in found["mixed"]])
    errors = sum(r.errors for r in found["alone"]) + sum(r.errors + w.errors for r, w in found["mixed"])
    now = (f"{ratio:.2f}x: {rate(median(under))} writes/s (p50 {ms(p50)}) beside {rate(read_rate)} reads/s, "
           f"alone {rate(median(alone))}/s")
    if errors:
        now += f"; {errors} ERRORS"
    return Measure(name, now, target, not errors and ratio >= 0.5,
                   {"ratio": ratio, "writes_mixed": median(under), "writes_alone": median(alone),
                    "writes_p50_ms": p50, "reads_mixed": read_rate, "errors": errors})


def _cold_starts(ctx: Context, database: str, auth: dict[str, str], member: int, measures: list[Measure],
                 target: tuple[str, str], report: bool) -> Server:
    """Spawn to the first 200 of a dialect read, alternated with hello-world's; returns the last
    gateway, still running (the soak uses it)."""
    servers: list[Server] = []
    _compile_bytecode()

    def gateway() -> float:
        if servers:
            servers[-1].stop()
        server = ctx.gateway(database)
        server.ready_path, server.ready_headers = f"/webapps/api/memberpointsbalances?mbr_id={member}", auth
        servers.append(server)
        return server.start(timeout=300)

    def hello() -> float:
        with ctx.hello() as server:
            return server.start()

    found = alternate({"gateway": gateway, "hello": hello}, max(ctx.rounds, 3) if report else 1)
    if report:
        seconds, reference = median(found["gateway"]), median(found["hello"])
        measures.append(Measure(target[0], f"{seconds:.2f} s (hello-world: {reference:.2f} s; file in page cache)",
                                target[1], seconds <= 0.3, {"seconds": seconds, "hello_seconds": reference}))
    return servers[-1]


def _compile_bytecode() -> None:
    """The gateway's modules compiled to bytecode once, as any installed copy has them (pip compiles at
    install, a first start writes them): an editable checkout run under PYTHONDONTWRITEBYTECODE would
    otherwise compile every module from source at each start, while hello-world's aiohttp is read
    compiled. compileall writes the caches whatever that variable says."""
    import compileall

    import gateway

    compileall.compile_dir(Path(gateway.__file__).parent, quiet=1)


def _soak(ctx: Context, server: Server, credentials: dict[str, dict[str, str]], ids: list[int], name: str,
          target: str) -> Measure:
    reads, writes = mixed_loads(server.base, credentials, ids)
    at_start = server.rss_mib()
    left, requests = ctx.soak_minutes * 60, 0
    while left >= 1:
        chunk = int(min(left, 60))
        read_result, write_result = _together(reads, writes, chunk)
        requests += read_result.requests + write_result.requests
        left -= chunk
    at_end = server.rss_mib()
    return Measure(name, f"{at_end:.0f} MB (after start: {at_start:.0f} MB; {requests:,} requests)", target,
                   at_end <= 150, {"rss_mib": at_end, "rss_start_mib": at_start, "requests": requests})
