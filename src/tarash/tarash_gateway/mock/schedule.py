"""Which scheduled rule, if any, serves a call: pure rules over the call number and the clock.

Call numbers count per config object and per (provider, model) (see `state`).
Outages count seconds on the clock from that lane's first call; an on/off process
draws its spells from a seeded stream of its own (one per provider and model), so the
same seed gives the same outages in every process, whatever other mocks do.
"""

from __future__ import annotations

import math

from .config import Outage, Schedule
from .state import Lane

__all__ = ["is_down", "matching_rule", "rule_matches"]


def matching_rule(rules: list[Schedule], lane: Lane, call_number: int, now: float) -> Schedule | None:
    """The first rule that takes this call (the `call_number`-th, at clock `now`)."""
    if lane.origin_time is None:
        with lane.lock:
            if lane.origin_time is None:
                lane.origin_time = now
    elapsed = now - lane.origin_time  # type: ignore[operator]
    for rule in rules:
        if rule_matches(rule, call_number, lambda outage: is_down(outage, lane, elapsed)):
            return rule
    return None


def rule_matches(rule: Schedule, call_number: int, down: object) -> bool:
    """Whether `rule` takes the `call_number`-th call; `down(outage)` says if an outage is on."""
    if rule.calls is not None:
        return call_number in rule.calls
    if rule.every is not None:
        return call_number % rule.every == 0
    if rule.first is not None:
        return call_number <= rule.first
    assert rule.outage is not None and callable(down)  # a Schedule holds exactly one rule
    return bool(down(rule.outage))


def is_down(outage: Outage, lane: Lane, elapsed: float) -> bool:
    """Whether the provider is down `elapsed` seconds after the lane's first call."""
    if outage.start is not None:
        return outage.start <= elapsed < outage.start + (outage.duration or 0.0)
    stream = lane.outage_stream()
    with lane.lock:
        spells = lane.spells
        while not spells or spells[-1][1] <= elapsed:
            start = spells[-1][1] if spells else 0.0
            up = -outage.mean_up * math.log(1 - stream.uniform())  # type: ignore[operator]
            down = -outage.mean_down * math.log(1 - stream.uniform())  # type: ignore[operator]
            spells.append((start + up, start + up + down))
        return any(begin <= elapsed < end for begin, end in spells)
