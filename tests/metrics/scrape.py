"""Reading /__admin/metrics as Prometheus does (its own text parser), as {(sample name, labels): value},
and the difference between two scrapes."""
from __future__ import annotations

from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


async def scrape(base: str, **headers: str) -> Samples:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/__admin/metrics", headers=headers) as response:
            assert response.status == 200, await response.text()
            assert response.headers["Content-Type"] == CONTENT_TYPE
            return samples(await response.text())


def grown(before: Samples, after: Samples, name: str) -> dict[tuple[str, ...], float]:
    """How much each series of the counter `name` grew between two scrapes, by its label values (in label
    name order); series that did not grow are left out."""
    out: dict[tuple[str, ...], float] = {}
    for (sample, labels), value in after.items():
        if sample == name:
            moved = value - before.get((sample, labels), 0)
            if moved:
                out[tuple(v for _, v in labels)] = moved
    return out


def value(found: Samples, name: str, **labels: Any) -> float:
    return found[(name, tuple(sorted((k, str(v)) for k, v in labels.items())))]
