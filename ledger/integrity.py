"""A hash chain over each issuer's stored events, and its verification.

Every stored event carries ``previous`` (the hash of the event before it in the issuer's
stream, or GENESIS) and ``digest``: SHA-256 over a canonical JSON of the issuer, the
sequence number, the recorded time, the entry's content (effective date included) and
``previous``. Editing, deleting, reordering or inserting a row then breaks a link that
``verify`` finds by recomputing the chain from the raw rows.

What the chain cannot do alone: someone who rewrites the database *and* recomputes every
hash from the changed row onwards leaves a valid chain. A head hash written down or published
earlier catches that: ``verify(expect_head=...)`` requires it to appear in the chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from ledger.entries import parse_entry

GENESIS = "0" * 64


def sha256_of(data: dict[str, Any]) -> str:
    """SHA-256 of a canonical JSON form: keys sorted, no spaces, UTF-8."""
    payload = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def chain_digest(previous: str, issuer: str, sequence: int, recorded_at: datetime,
                 entry: dict[str, Any]) -> str:
    return sha256_of({"previous": previous, "issuer": issuer, "sequence": sequence,
                      "recorded_at": recorded_at.isoformat(), "entry": entry})


@dataclass(frozen=True)
class StoredLink:
    """One raw row as the store holds it, decoded as little as possible."""

    position: int
    sequence: int
    state: dict[str, Any] | None  # None when the row does not decode at all
    recorded_at: datetime | None


@dataclass(frozen=True)
class ChainBreak:
    sequence: int
    position: int | None
    entry: str | None
    problem: str


@dataclass(frozen=True)
class ChainReport:
    issuer: str
    events: int
    head: str | None
    broken: ChainBreak | None
    expected_head_found_at: int | None = None

    @property
    def ok(self) -> bool:
        return self.broken is None


def verify(issuer: str, links: list[StoredLink], expect_head: str | None = None) -> ChainReport:
    """Recompute the chain; report the first broken link, or the head hash."""
    previous, found_at = GENESIS, None
    for expected_sequence, link in enumerate(links, start=1):
        broken = _check_link(issuer, expected_sequence, previous, link)
        if broken is not None:
            return ChainReport(issuer, expected_sequence - 1, previous, broken)
        assert link.state is not None
        previous = link.state["digest"]
        if previous == expect_head:
            found_at = expected_sequence
    head = previous if links else None
    if expect_head is not None and found_at is None:
        return ChainReport(issuer, len(links), head, ChainBreak(
            len(links), None, None,
            f"the expected head {expect_head} is not in the chain: the history up to it was "
            f"rewritten (or it belongs to another ledger); the chain's head now is {head}"))
    return ChainReport(issuer, len(links), head, None, found_at)


def _check_link(issuer: str, sequence: int, previous: str, link: StoredLink) -> ChainBreak | None:
    def broken(problem: str, entry: str | None = None) -> ChainBreak:
        return ChainBreak(sequence, link.position, entry, problem)

    if link.sequence != sequence:
        return broken(f"event {sequence} is missing: the next stored event has sequence "
                      f"{link.sequence} (deleted rows)")
    if link.state is None or link.recorded_at is None:
        return broken("the stored row does not decode")
    state = link.state
    entry = state.get("entry")
    entry_id = entry.get("id") if isinstance(entry, dict) else None
    if not isinstance(entry, dict) or "digest" not in state or "previous" not in state:
        return broken("the stored row lacks its entry or hashes", entry_id)
    if state["previous"] != previous:
        return broken(f"the link to the event before is broken: it names {state['previous'][:16]}... "
                      f"but the event before has hash {previous[:16]}... (rows deleted, inserted "
                      "or reordered)", entry_id)
    recomputed = chain_digest(previous, issuer, sequence, link.recorded_at, entry)
    if recomputed != state["digest"]:
        return broken(f"the content, recorded time or sequence no longer matches its hash "
                      f"(stored {state['digest'][:16]}..., recomputed {recomputed[:16]}...)", entry_id)
    try:
        parse_entry(entry)
    except ValidationError as err:
        return broken(f"the entry no longer validates: {err.errors()[0]['msg']}", entry_id)
    return None
