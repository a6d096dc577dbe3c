"""One gateway instance's ledger in an OS process of its own, for the multi-process tests: it spends
from one member's balance (and replays shared idempotency keys) over a database URL, and reports every
acknowledged write on stdout as it happens.

    python -m tests.store.instance URL --tenant T --customer N --amount 3.00 --count 40 [--keys a,b]
    python -m tests.store.instance URL ... --forever     (until killed or the balance runs out)
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from decimal import Decimal

from gateway.ledger import By, Identity, Idempotency, InsufficientFunds, Ledger, LedgerError, open_store


def say(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


async def main(args: argparse.Namespace) -> None:
    ledger = Ledger(open_store(args.url))
    await ledger.start()
    try:
        tenant = await ledger.tenant(args.tenant)
        member = By(Identity.CUSTOMER_NO, args.customer)
        amount = Decimal(args.amount)
        say(event="ready")
        if args.start_at:
            await asyncio.sleep(max(0.0, args.start_at - time.time()))
        gate = asyncio.Semaphore(args.concurrency)
        remaining = args.count
        stop = False

        async def spend_one() -> None:
            nonlocal stop
            async with gate:
                if stop:
                    return
                try:
                    moved = await ledger.debit(tenant=tenant, member=member, amount=amount)
                except InsufficientFunds:
                    say(event="refused")
                    stop = stop or args.forever
                except LedgerError as exc:
                    say(event="error", code=exc.code, message=exc.message)
                else:
                    say(event="ack", entry=moved.entry.id, posted=str(moved.balance.posted))

        async def replay(key: str) -> None:
            outcome = await ledger.credit(
                tenant=tenant, member=By(Identity.CUSTOMER_NO, args.key_customer), amount=Decimal("1.00"),
                idempotency=Idempotency("spend-test", key, "same", lambda m: f"{m.entry.id}:{m.balance.posted}".encode()),
            )
            say(event="key", key=key, response=outcome.response.decode(), replayed=outcome.replayed)

        keys = [k for k in (args.keys or "").split(",") if k]
        jobs = [replay(k) for k in keys]
        while not stop and (args.forever or remaining > 0):
            batch = args.concurrency * 4 if args.forever else remaining
            remaining -= batch
            await asyncio.gather(*jobs, *(spend_one() for _ in range(batch)))
            jobs = []
        say(event="done")
    finally:
        await ledger.close()


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.store.instance")
    parser.add_argument("url")
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--customer", type=int, required=True)
    parser.add_argument("--amount", required=True)
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--forever", action="store_true")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--start-at", type=float, default=0.0, help="unix time to start at, so processes overlap")
    parser.add_argument("--keys", help="idempotency keys to credit 1.00 with, shared with the other process")
    parser.add_argument("--key-customer", type=int, default=0)
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse(sys.argv[1:])))
