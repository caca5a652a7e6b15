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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError

from ledger.entries import AnyEntry, parse_entry

GENESIS = "0" * 64


def sha256_of(data: dict[str, Any]) -> str:
    """SHA-256 of a canonical JSON form: keys sorted, no spaces, UTF-8."""
    payload = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def own_sha256(data: dict[str, Any]) -> str:
    """``sha256_of`` for what this ledger writes itself (entries' content: text, whole numbers,
    true/false/null, lists and objects, never a float, since amounts are text): orjson's
    OPT_SORT_KEYS bytes are the canonical JSON for those, at a fifth of the cost. Where orjson
    cannot (an integer beyond 64 bits), the definition. Never for stored rows being audited:
    those may hold anything (``ChainCheck``)."""
    try:
        payload = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError
        return sha256_of(data)
    return hashlib.sha256(payload).hexdigest()


def chain_digest(previous: str, issuer: str, sequence: int, recorded_at: datetime,
                 entry: dict[str, Any], hash_of: Callable[[dict[str, Any]], str] = sha256_of) -> str:
    """The link's digest; ``hash_of=own_sha256`` when ``entry`` is one this ledger is writing."""
    return hash_of({"previous": previous, "issuer": issuer, "sequence": sequence,
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


def verify(issuer: str, links: Iterable[StoredLink], expect_head: str | None = None) -> ChainReport:
    """Recompute the chain; report the first broken link, or the head hash."""
    chain = ChainCheck(issuer, expect_head)
    for link in links:
        if chain.link(link) is None:
            break
    return chain.report()


class ChainCheck:
    """Verifies one issuer's chain one link at a time, in stream order, so that a reader can
    check each row as it reads it and keep nothing but the head. ``report()`` afterwards is
    what ``verify`` returns for the same rows.

    ``link`` is the definition (it decides, and explains a broken link). ``fast`` is the same
    test on a row the caller has decoded itself, for the common case: it accepts a link only
    where ``link`` would, and returns None for anything it cannot accept, after which the
    caller runs ``link`` on the same row."""

    def __init__(self, issuer: str, expect_head: str | None = None) -> None:
        self.issuer = issuer
        self.expect_head = expect_head
        self.head = GENESIS  # the digest of the last link that held
        self.events = 0  # links that held
        self.found_at: int | None = None
        self.broken: ChainBreak | None = None
        # For ``canonical``: the issuer as JSON text, once.
        try:
            self._issuer_json: bytes | None = json.dumps(issuer, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: ``link`` fails on it as chain_digest does
            self._issuer_json = None
        self._time: datetime | None = None
        self._time_json = b""

    def link(self, link: StoredLink) -> AnyEntry | None:
        """Check the next link: its parsed entry when it holds, else None and ``broken``
        says why (and no later link is accepted)."""
        if self.broken is not None:
            return None
        broken, entry = _check_link(self.issuer, self.events + 1, self.head, link)
        if broken is not None:
            self.broken = broken
            return None
        assert link.state is not None
        self._held(link.state["digest"])
        return entry

    def fast(self, sequence: int, state: dict[str, Any], recorded_at: datetime) -> AnyEntry | None:
        """``link`` for a row decoded by ``plain_json`` (as the library's transcoder would, its
        ``timestamp`` being ``recorded_at``), hashing ``canonical``'s bytes. Returns None,
        changing nothing, for any row whose link it does not accept."""
        if self.broken is not None or sequence != self.events + 1:
            return None
        entry, digest = state.get("entry"), state.get("digest")
        if state.get("previous") != self.head or type(entry) is not dict or type(digest) is not str:
            return None
        payload = self.canonical(sequence, recorded_at, entry)
        if payload is None:
            return None
        if hashlib.sha256(payload).hexdigest() != digest:
            return None
        try:
            parsed = parse_entry(entry)
        except ValidationError:
            return None
        self._held(digest)
        return parsed

    def canonical(self, sequence: int, recorded_at: datetime, entry: dict[str, Any]) -> bytes | None:
        """The bytes ``chain_digest(self.head, issuer, sequence, recorded_at, entry)`` hashes,
        made with orjson (its OPT_SORT_KEYS output is ``sha256_of``'s canonical JSON for text,
        whole numbers within 64 bits, true/false/null, lists and objects); None when orjson
        cannot vouch for them (an integer beyond 64 bits raises there; a float must not get
        this far: see ``plain_json``)."""
        if self._issuer_json is None:
            return None
        try:
            if recorded_at is not self._time:  # one recorded time per recording: usually the same
                self._time_json = recorded_at.isoformat().encode("ascii")
                self._time = recorded_at
            return b"".join((
                b'{"entry":', orjson.dumps(entry, option=orjson.OPT_SORT_KEYS),
                b',"issuer":', self._issuer_json,
                b',"previous":"', self.head.encode("ascii"),  # a hex digest: nothing to escape
                b'","recorded_at":"', self._time_json,  # isoformat: digits and -:+.T only
                b'","sequence":', str(sequence).encode("ascii"), b"}"))
        except (TypeError, ValueError):  # orjson.JSONEncodeError is a TypeError
            return None

    def _held(self, digest: str) -> None:
        self.events += 1
        self.head = digest
        if digest == self.expect_head:
            self.found_at = self.events

    def report(self) -> ChainReport:
        issuer, events = self.issuer, self.events
        if self.broken is not None:
            return ChainReport(issuer, events, self.head, self.broken)
        head = self.head if events else None
        if self.expect_head is not None and self.found_at is None:
            return ChainReport(issuer, events, head, ChainBreak(
                events, None, None,
                f"the expected head {self.expect_head} is not in the chain: the history up to it "
                f"was rewritten (or it belongs to another ledger); the chain's head now is {head}"))
        return ChainReport(issuer, events, head, None, self.found_at)


def _not_plain(text: str) -> Any:
    raise _NotPlain(text)


class _NotPlain(ValueError):
    """A float, NaN or Infinity: ``json.dumps`` and orjson format some of them differently."""


_PLAIN = json.JSONDecoder(parse_float=_not_plain, parse_constant=_not_plain)
_SCAN: Callable[[str, int], tuple[Any, int]] = _PLAIN.scan_once  # type: ignore[attr-defined]


def plain_json(raw: bytes) -> Any:
    """Decode stored JSON exactly as ``json.loads(raw.decode("utf-8"))`` does (so as the
    library's transcoder does, less its hook for typed values), refusing (ValueError) a
    document that holds any float, NaN or Infinity: ``ChainCheck.fast`` could not hash it
    byte for byte as ``sha256_of`` does. A stored entry never holds one (amounts are text)."""
    text = raw.decode("utf-8")
    try:  # what JSONDecoder.decode does, less its two whitespace matches (a stored row has none)
        value, end = _SCAN(text, 0)
    except StopIteration:
        end = -1
    return value if end == len(text) else _PLAIN.decode(text)  # decode: the same value or error


def _check_link(issuer: str, sequence: int, previous: str,
                link: StoredLink) -> tuple[ChainBreak | None, AnyEntry | None]:
    def broken(problem: str, entry: str | None = None) -> tuple[ChainBreak, None]:
        return ChainBreak(sequence, link.position, entry, problem), None

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
        parsed = parse_entry(entry)
    except ValidationError as err:
        return broken(f"the entry no longer validates: {err.errors()[0]['msg']}", entry_id)
    return None, parsed
