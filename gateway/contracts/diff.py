"""diff: each case's requests sent to two servers and their answers compared field by field. The case runs
on A, on B, and on A again (its state set up each time, when both offer provider states): what differs
between A's two runs is noise (ids, times) and is masked with the case's volatile paths. Knows no vendor."""
from __future__ import annotations

import time

from . import compare
from .model import Case, CaseOutcome, Expectation, StepOutcome
from .provider import Admin, StateRefused
from .runner import Sent, Speaker, play, shown


async def diff_case(a: Admin, b: Admin, speaker: Speaker, case: Case, *, states: bool, tenant: str) -> CaseOutcome:
    started = time.monotonic()
    outcome = CaseOutcome(case_id=case.id, dialect=case.dialect, mode="diff", status="passed")
    if case.writes and not (states and case.state is not None):
        outcome.status = "skipped"
        outcome.reason = "it writes, and the servers do not both offer provider states to start it from"
        return outcome
    try:
        # A, B, then A again: whatever B answered in between two equal answers of A's (a time to the second)
        # was answered within the same span, so what moves with the clock shows up as noise
        first = await _run(a, speaker, case, states, tenant)
        other = await _run(b, speaker, case, states, tenant)
        second = await _run(a, speaker, case, states, tenant)
    except StateRefused as exc:
        outcome.status, outcome.reason = "error", str(exc)
        return outcome
    unjudged = []
    for n, (step, (sent, answer_a), (_, again), (sent_b, answer_b)) in enumerate(
            zip(case.steps, first, second, other, strict=True), 1):
        masked = [*compare.noise(answer_a, again), *step.expect.volatile]
        if compare.WHOLE_BODY in masked:
            unjudged.append(str(n))
        found = compare.answers(answer_a, answer_b, masked=masked)
        seen_on_a = Expectation(status=answer_a.status, body=answer_a.body, media=answer_a.media, volatile=tuple(masked))
        outcome.steps.append(shown(StepOutcome(sent.shown, seen_on_a, answer_b, found), _secrets(sent, sent_b)))
    outcome.status = "failed" if any(s.differences for s in outcome.steps) else "passed"
    if unjudged:  # said, so a pass is not read as the bodies agreeing
        outcome.reason = (f"step {', '.join(unjudged)}: the first server's body changed between two sends, "
                          "so only status and media type were compared")
    outcome.seconds = time.monotonic() - started
    return outcome


def _secrets(*sent: Sent) -> dict[str, str]:
    """Both tenants' credentials (the values a step was filled with, less the record id it carried on)."""
    return {f"{i}.{k}": v for i, one in enumerate(sent) for k, v in one.values.items() if k != "id"}


async def _run(admin: Admin, speaker: Speaker, case: Case, states: bool, tenant: str) -> list:  # type: ignore[type-arg]
    answer = await admin.set_state(case, tenant) if states and case.state is not None else None
    return await play(admin.target, speaker, case, speaker.credentials(answer))
