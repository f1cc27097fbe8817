"""Copying recordings between stores: `tarash cassette pull URL FILE.db` (a local
snapshot of a shared cassette, e.g. for CI to replay offline) and `push FILE.db URL`
(publish a recorded run). Both carry the call-level recordings and the HTTP level's
exchanges with their bodies (`exchanges`).

Idempotent by content: a recording the target already holds, by `recording_identity`
(request key, outcome, response, error, timeline), is not copied again, so pushing
twice adds nothing; so is an exchange (by `exchange_identity`). Each key's recordings
and exchanges keep their order (copied by `seq`), blobs are
streamed through a temporary file and verified on the way, and each recording or exchange is one
transaction in the target, so an interrupted copy resumes where it stopped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from ..exceptions import CassetteError
from .exchanges import copy_exchanges, copy_missing
from .merge import _add_from, recording_identity
from .protocol import Store, open_store

__all__ = ["TransferReport", "copy_recordings", "transfer"]


@dataclass(frozen=True, slots=True)
class TransferReport:
    """What a copy did: recordings `copied`, and `skipped` (the target held them); the
    same for HTTP exchanges."""

    copied: int
    skipped: int
    exchanges_copied: int = 0
    exchanges_skipped: int = 0


def copy_recordings(source: Store, target: Store, *, progress: Callable[[int], None] | None = None) -> TransferReport:
    """Copy `source`'s recordings the `target` lacks, by content; `progress(1)` after each."""
    try:
        held = Counter(recording_identity(r) for r in target.recordings())
        rows = sorted(source.recordings(), key=lambda r: (r["key"], r["seq"]))
    except (ValueError, TypeError) as error:
        raise CassetteError(f"a recording of {source.path} or {target.path} cannot be read ({error})") from None
    copied, skipped = copy_missing(rows, held, recording_identity, lambda row: _add_from(source, row, target), progress)
    return TransferReport(copied, skipped)


def transfer(source: str, target: str, *, on_count: Callable[[int], Callable[[int], None]] | None = None
             ) -> TransferReport:
    """Copy the recordings and HTTP exchanges of cassette `source` into cassette `target`
    (paths or URLs).

    `on_count(n)`, when given, is told how many recordings and exchanges the source
    holds and returns the per-item progress callback (the CLI's progress bar).
    """
    opened = open_store(source, create=False)
    if opened is None:
        raise CassetteError(f"cassette {source} does not exist")
    try:
        into = open_store(target, create=True)
        assert into is not None
        try:
            total = opened.count_recordings() + opened.count_exchanges()
            tick = on_count(total) if on_count is not None else None
            calls = copy_recordings(opened, into, progress=tick)
            copied, skipped = copy_exchanges(opened, into, progress=tick)
            return TransferReport(calls.copied, calls.skipped, copied, skipped)
        finally:
            into.close()
    finally:
        opened.close()
