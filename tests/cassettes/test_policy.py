"""The record-mode policy: one pure function, pinned by its full table."""

from __future__ import annotations

import pytest

from tarash.tarash_gateway.cassettes import CassetteConfig, RecordMode
from tarash.tarash_gateway.cassettes.policy import Decision, decide, needs_lookup

R, W, X = Decision.REPLAY, Decision.RECORD, Decision.REFUSE

# mode, existed, hit -> decision: every combination, written out.
TABLE = [
    ("none", False, False, X),
    ("none", False, True, R),
    ("none", True, False, X),
    ("none", True, True, R),
    ("once", False, False, W),
    ("once", False, True, W),
    ("once", True, False, X),
    ("once", True, True, R),
    ("new_episodes", False, False, W),
    ("new_episodes", False, True, R),
    ("new_episodes", True, False, W),
    ("new_episodes", True, True, R),
    ("all", False, False, W),
    ("all", False, True, W),
    ("all", True, False, W),
    ("all", True, True, W),
]


def test_the_table_covers_every_combination():
    assert {(m, e, h) for m, e, h, _ in TABLE} == {(m.value, e, h) for m in RecordMode for e in (0, 1) for h in (0, 1)}


@pytest.mark.parametrize("mode, existed, hit, expected", TABLE)
def test_decide(mode, existed, hit, expected):
    assert decide(RecordMode(mode), existed=existed, hit=hit) is expected


@pytest.mark.parametrize("mode, existed, hit, expected", TABLE)
def test_lookup_is_skipped_only_where_the_hit_cannot_change_the_decision(mode, existed, hit, expected):
    other = decide(RecordMode(mode), existed=existed, hit=not hit)
    assert needs_lookup(RecordMode(mode), existed=existed) is (other is not expected)


def test_a_wrong_record_mode_lists_the_valid_ones():
    with pytest.raises(ValueError, match="none, once, new_episodes, all"):
        RecordMode.parse("any")
    with pytest.raises(ValueError, match="use one of: none, once, new_episodes, all"):
        CassetteConfig(path="x.db", record_mode="sometimes")


def test_record_modes_parse_case_and_spaces():
    assert RecordMode.parse(" New_Episodes ") is RecordMode.NEW_EPISODES
    assert CassetteConfig(record_mode="ALL").record_mode is RecordMode.ALL
