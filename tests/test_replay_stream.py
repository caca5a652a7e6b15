"""The streamed audit (``LedgerStore.audit_stream`` / ``LedgerStore.audit``): one pass that reads
an issuer's rows a page at a time, checks each link of the hash chain and decodes each entry
once. It must give exactly the records ``entries`` gives and exactly the report
``verify(issuer, links(issuer))`` gives, on intact and on tampered databases, whichever way
(fast or exact) each row takes."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.generate import generate
from ledger.application import Ledger
from ledger.entries import parse_entry
from ledger.integrity import ChainCheck, chain_digest, own_sha256, plain_json, sha256_of, verify
from ledger.journal import load_journal
from ledger.records import RecordedEntry
from ledger.store import ChainAudit, LedgerStore, stream_id
from tests.conftest import SEED_JOURNALS
from tests.helpers import entry, store_at

ISSUER = "bench-co"  # benchmarks.generate's issuer
MEMO = 'Zoë "quoted"\nline two\ttab \\ back ☃ 𝄞'  # stored as raw UTF-8 and short escapes


def record_workload(location: str) -> None:
    """A generated ledger (300 entries), another issuer's journals recorded in between (so the
    stream is not the whole table), a correction, a void and an entry with an awkward memo."""
    w = generate(300, 30, seed=5)
    entries = [parse_entry(e) for e in w.entries]
    ledger = Ledger.open(location)
    try:
        ledger.record(ISSUER, entries[:150])
        for path in SEED_JOURNALS:
            journal = load_journal(path)
            ledger.record(journal.issuer, journal.entries)
        ledger.record(ISSUER, entries[150:])
        day = w.last_day.isoformat()
        holder = next(e for e in w.entries if e["type"] == "StakeholderAdded")
        ledger.record(ISSUER, [
            entry("StakeholderAdded", "late-holder", day, holder="late-holder", name="Late", memo=MEMO),
            entry("EntryCorrected", "fix-name", day, target=holder["id"], reason="typo", by="A. Clerk",
                  replacement={**holder, "name": "Holder One, corrected"}),
            entry("EntryVoided", "void-late", day, target="late-holder", reason="not a holder",
                  by="A. Clerk"),
        ])
    finally:
        ledger.close()


def decoded_prefix(store: LedgerStore, events: int) -> list[RecordedEntry]:
    """The first ``events`` rows decoded as ``entries`` decodes them (``entries`` itself fails
    on a stream holding an undecodable row further on)."""
    return [store._decode(n) for n in store.reader.stream(stream_id(ISSUER))[:events]]


def assert_same_as_verify(store: LedgerStore, expect_head: str | None = None,
                          page: int = 7) -> list[RecordedEntry]:
    want = verify(ISSUER, store.links(ISSUER), expect_head)
    assert store.audit(ISSUER, expect_head, page=page) == want
    audit = store.audit_stream(ISSUER, expect_head, page=page)
    records = list(audit)
    assert audit.report == want
    assert records == decoded_prefix(store, want.events)
    return records


# --- an intact ledger: SQLite, PostgreSQL and in memory -------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    where = str(tmp_path / "stream.sqlite") if request.param == "sqlite" else str(
        request.getfixturevalue("postgres_location"))
    record_workload(where)
    return where


@pytest.mark.parametrize("page", [1, 7, 5_000])
def test_stream_gives_what_entries_and_verify_give(location: str, page: int) -> None:
    with store_at(location) as store:
        expected = store.entries(ISSUER)
        audit = store.audit_stream(ISSUER, page=page)
        assert list(audit) == expected
        assert audit.report == verify(ISSUER, store.links(ISSUER))
        assert audit.report.ok and audit.report.events == len(expected) > 300
        assert audit.report.head == expected[-1].digest
        assert store.audit(ISSUER, page=page) == audit.report


def test_in_memory_store() -> None:
    ledger = Ledger.open(":memory:")
    try:
        ledger.record(ISSUER, [parse_entry(e) for e in generate(60, 10, seed=2).entries])
        store = ledger.store
        audit = store.audit_stream(ISSUER, page=4)
        assert list(audit) == store.entries(ISSUER)
        assert audit.report == verify(ISSUER, store.links(ISSUER)) and audit.report.ok
    finally:
        ledger.close()


def test_expected_head(location: str) -> None:
    with store_at(location) as store:
        earlier = verify(ISSUER, store.links(ISSUER)[:5]).head
        records = assert_same_as_verify(store, expect_head=earlier)
        assert len(records) == len(store.entries(ISSUER))
        report = store.audit(ISSUER, earlier)
        assert report.ok and report.expected_head_found_at == 5
        unknown = "ab" * 32
        assert_same_as_verify(store, expect_head=unknown)
        assert not store.audit(ISSUER, unknown).ok


def test_intact_rows_all_take_the_fast_path(location: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path must not silently fall back to the exact one (which is 3x slower): on an
    intact ledger written by this code, only rows with a \\u escape go the exact way."""
    exact: list[int] = []
    original = ChainAudit._exact

    def counting(self: ChainAudit, row: Any) -> Any:
        exact.append(row[1])
        return original(self, row)

    monkeypatch.setattr(ChainAudit, "_exact", counting)
    with store_at(location) as store:
        assert len(list(store.audit_stream(ISSUER))) > 300
    assert exact == []


def test_audit_entries_is_the_stream_as_a_list(location: str) -> None:
    with store_at(location) as store:
        records, report = store.audit_entries(ISSUER, page=50)
        assert records == store.entries(ISSUER)
        assert report == verify(ISSUER, store.links(ISSUER)) and report.ok
    with raw_sql(location) as run:
        swapped_rows(run)
    with store_at(location) as store:
        records, report = store.audit_entries(ISSUER)
        assert report == verify(ISSUER, store.links(ISSUER)) and not report.ok
        assert records == decoded_prefix(store, 59)


def test_empty_and_unknown_stream(tmp_path: Path) -> None:
    with store_at(str(tmp_path / "empty.sqlite")) as store:
        assert store.audit("nobody") == verify("nobody", [])
        audit = store.audit_stream("nobody")
        assert list(audit) == [] and audit.report.head is None and audit.report.ok


def test_report_needs_the_whole_stream(location: str) -> None:
    with store_at(location) as store:
        audit = store.audit_stream(ISSUER, page=10)
        with pytest.raises(RuntimeError):
            audit.report  # noqa: B018
        iterator = iter(audit)
        next(iterator)
        with pytest.raises(RuntimeError):
            audit.report  # noqa: B018  (one record read: no report yet)
        with pytest.raises(RuntimeError):
            list(audit)  # read once


# --- tampered databases: SQLite and PostgreSQL ----------------------------------------------------

Run = Callable[..., list[tuple[Any, ...]]]
SID = object()  # in a parameter list: this issuer's stream id, as the backend stores it


@contextmanager
def raw_sql(location: str) -> Iterator[Run]:
    """SQL straight against the store's table (written for SQLite; translated for PostgreSQL),
    with :sid in the SQL, and SID among the parameters, standing for this issuer's stream id."""
    sid = stream_id(ISSUER)
    if location.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(location, autocommit=True) as conn:
            def run(sql: str, *params: Any) -> list[tuple[Any, ...]]:
                sql = (sql.replace("?", "%s").replace(":sid", "%s")
                       .replace("stored_events", "capledger_events").replace("rowid", "notification_id"))
                values = [sid if p is SID else p for p in params]
                cursor = conn.execute(sql, values)  # type: ignore[arg-type]
                return cursor.fetchall() if cursor.description else []
            yield run
    else:
        with sqlite3.connect(location) as conn:
            def run(sql: str, *params: Any) -> list[tuple[Any, ...]]:
                values = [sid.hex if p is SID else p for p in params]
                return conn.execute(sql.replace(":sid", "?"), values).fetchall()
            yield run
            conn.commit()


def state_of(run: Run, version: int) -> dict[str, Any]:
    ((state,),) = run("SELECT state FROM stored_events WHERE originator_id = :sid AND originator_version = ?",
                      SID, version)
    return dict(json.loads(bytes(state)))


def put_state(run: Run, version: int, state: dict[str, Any] | bytes, ascii_only: bool = False) -> None:
    raw = state if isinstance(state, bytes) else json.dumps(
        state, separators=(",", ":"), ensure_ascii=ascii_only).encode()
    run("UPDATE stored_events SET state = ? WHERE originator_id = :sid AND originator_version = ?",
        raw, SID, version)


def last_version(run: Run) -> int:
    ((version,),) = run("SELECT MAX(originator_version) FROM stored_events WHERE originator_id = :sid",
                        SID)
    return int(version)


def first_with(run: Run, field: str) -> int:
    version = 2
    while field not in state_of(run, version)["entry"]:
        version += 1
    return version


def rechain(run: Run, start: int, ascii_only: bool = False) -> None:
    """Recompute every hash from ``start`` on, as a writer with database access could."""
    previous = state_of(run, start - 1)["digest"]
    for version in range(start, last_version(run) + 1):
        state = state_of(run, version)
        recorded = datetime.fromisoformat(state["timestamp"]["_data_"])
        state["previous"] = previous
        state["digest"] = previous = chain_digest(previous, ISSUER, version, recorded, state["entry"])
        put_state(run, version, state, ascii_only)


def orjson_digest(previous: str, version: int, state: dict[str, Any]) -> str:
    """A digest over orjson's bytes instead of json.dumps's: the two differ for floats."""
    payload = {"previous": previous, "issuer": ISSUER, "sequence": version, "entry": state["entry"],
               "recorded_at": datetime.fromisoformat(state["timestamp"]["_data_"]).isoformat()}
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def changed_quantity(run: Run) -> None:
    version = first_with(run, "quantity")
    state = state_of(run, version)
    state["entry"]["quantity"] -= 1
    put_state(run, version, state)


def deleted_row(run: Run) -> None:
    run("DELETE FROM stored_events WHERE originator_id = :sid AND originator_version = ?", SID, 40)


def swapped_rows(run: Run) -> None:
    six, seven = state_of(run, 60), state_of(run, 61)
    put_state(run, 60, seven)
    put_state(run, 61, six)


def forged_append(run: Run) -> None:
    version = last_version(run)
    ((topic,),) = run("SELECT topic FROM stored_events WHERE originator_id = :sid AND originator_version = ?",
                      SID, version)
    forged = state_of(run, version)
    forged["entry"] = {**forged["entry"], "id": "forged"}
    forged["previous"], forged["digest"] = forged["digest"], "f" * 64
    run("INSERT INTO stored_events (originator_id, originator_version, topic, state) VALUES (:sid, ?, ?, ?)",
        SID, version + 1, topic, json.dumps(forged).encode())


def changed_recorded_time(run: Run) -> None:
    state = state_of(run, 3)
    state["timestamp"]["_data_"] = "2002-07-24T12:00:00+00:00"
    put_state(run, 3, state)


def timestamp_not_a_typed_value(run: Run) -> None:
    """A third key in the timestamp object: the library no longer reads it as a datetime."""
    state = state_of(run, 3)
    state["timestamp"]["note"] = "x"
    put_state(run, 3, state)


def undecodable_row(run: Run) -> None:
    put_state(run, 90, b"{not json")


def unknown_typed_value(run: Run) -> None:
    """An object the library's transcoder would turn into a value, of a type it does not know:
    the library cannot decode the row."""
    state = state_of(run, 90)
    state["entry"]["memo"] = {"_type_": "nope", "_data_": 1}
    put_state(run, 90, state)


def float_hashed_by_orjson(run: Run) -> None:
    """A float whose digest was made over orjson's bytes ("1e16"): the definition (json.dumps:
    "1e+16") does not match it, so neither may the fast path."""
    version = first_with(run, "quantity")
    state = state_of(run, version)
    state["entry"]["quantity"] = 1e16
    state["digest"] = orjson_digest(state["previous"], version, state)
    put_state(run, version, state)


def float_rehashed(run: Run) -> None:
    """A float with a valid chain: the hash holds, the entry no longer validates."""
    version = first_with(run, "quantity")
    state = state_of(run, version)
    state["entry"]["quantity"] = float(state["entry"]["quantity"])
    put_state(run, version, state)
    rechain(run, version)


def huge_integer_rehashed(run: Run) -> None:
    """Beyond orjson's 64 bits: the exact way decides (the chain holds, the entry validates)."""
    version = first_with(run, "quantity")
    state = state_of(run, version)
    state["entry"]["quantity"] = 2**70
    put_state(run, version, state)
    rechain(run, version)


def escaped_memo_rehashed(run: Run) -> None:
    """Memos rewritten with \\u escapes (json.dumps's ASCII mode) and a control character:
    valid, and decoded the exact way."""
    for version in (20, 21):
        state = state_of(run, version)
        state["entry"]["memo"] = "café \x01 ☃"
        put_state(run, version, state, ascii_only=True)
    rechain(run, 20, ascii_only=True)


def type_marker_in_memo_rehashed(run: Run) -> None:
    state = state_of(run, 30)
    state["entry"]["memo"] = "_type_"
    put_state(run, 30, state)
    rechain(run, 30)


def issuer_field_changed(run: Run) -> None:
    """The row's own issuer field is not hashed (the stream's issuer is): the chain holds and
    the record carries what the row says, as ``entries`` gives it."""
    state = state_of(run, 50)
    state["issuer"] = "someone-else"
    put_state(run, 50, state)


def issuer_field_typed(run: Run) -> None:
    """The unhashed issuer field as an object the library's transcoder turns into a UUID: the
    record must carry the UUID, as ``entries`` gives it."""
    state = state_of(run, 50)
    state["issuer"] = {"_type_": "uuid_hex", "_data_": stream_id(ISSUER).hex}
    put_state(run, 50, state)


def issuer_field_typed_escaped(run: Run) -> None:
    """The same with the key spelled with a \\u escape, so "_type_" is not in the raw bytes."""
    state = state_of(run, 50)
    state["issuer"] = {"_type_": "uuid_hex", "_data_": stream_id(ISSUER).hex}
    raw = json.dumps(state, separators=(",", ":"), ensure_ascii=False).encode()
    put_state(run, 50, raw.replace(b'"_type_":"uuid_hex"', b'"\\u005ftype_":"uuid_hex"'))


def previous_field_changed(run: Run) -> None:
    """The stored link to the event before names another hash; the digest (over the true one)
    is left as it was."""
    state = state_of(run, 80)
    state["previous"] = "0" * 64
    put_state(run, 80, state)


def deleted_row_rechained(run: Run) -> None:
    """A row deleted and the chain recomputed after it, keeping the stored sequence numbers:
    every link names the one before, but a sequence is missing."""
    run("DELETE FROM stored_events WHERE originator_id = :sid AND originator_version = ?", SID, 40)
    previous = state_of(run, 39)["digest"]
    for version in range(41, last_version(run) + 1):
        state = state_of(run, version)
        recorded = datetime.fromisoformat(state["timestamp"]["_data_"])
        state["previous"] = previous
        state["digest"] = previous = chain_digest(previous, ISSUER, version, recorded, state["entry"])
        put_state(run, version, state)


def recomputed_chain(run: Run) -> None:
    version = first_with(run, "quantity")
    state = state_of(run, version)
    state["entry"]["quantity"] += 1
    put_state(run, version, state)
    rechain(run, version)


def invalid_entry_rehashed(run: Run) -> None:
    """No float, a valid chain, an entry that no longer validates: only parsing catches it."""
    version = first_with(run, "quantity")
    state = state_of(run, version)
    state["entry"]["quantity"] = 0
    put_state(run, version, state)
    rechain(run, version)


def lacks_hashes(run: Run) -> None:
    state = state_of(run, 70)
    del state["digest"]
    put_state(run, 70, state)


def entry_not_an_object(run: Run) -> None:
    state = state_of(run, 70)
    state["entry"] = ["not", "an", "entry"]
    put_state(run, 70, state)


TAMPERING: dict[str, tuple[Callable[[Run], None], bool]] = {  # name -> (tamper, the chain still holds)
    "changed_quantity": (changed_quantity, False),
    "deleted_row": (deleted_row, False),
    "swapped_rows": (swapped_rows, False),
    "forged_append": (forged_append, False),
    "changed_recorded_time": (changed_recorded_time, False),
    "undecodable_row": (undecodable_row, False),
    "timestamp_not_a_typed_value": (timestamp_not_a_typed_value, False),
    "unknown_typed_value": (unknown_typed_value, False),
    "float_hashed_by_orjson": (float_hashed_by_orjson, False),
    "float_rehashed": (float_rehashed, False),
    "invalid_entry_rehashed": (invalid_entry_rehashed, False),
    "lacks_hashes": (lacks_hashes, False),
    "entry_not_an_object": (entry_not_an_object, False),
    "huge_integer_rehashed": (huge_integer_rehashed, True),
    "escaped_memo_rehashed": (escaped_memo_rehashed, True),
    "type_marker_in_memo_rehashed": (type_marker_in_memo_rehashed, True),
    "issuer_field_changed": (issuer_field_changed, True),
    "issuer_field_typed": (issuer_field_typed, True),
    "issuer_field_typed_escaped": (issuer_field_typed_escaped, True),
    "previous_field_changed": (previous_field_changed, False),
    "deleted_row_rechained": (deleted_row_rechained, False),
    "recomputed_chain": (recomputed_chain, True),
}


@pytest.mark.parametrize("name", sorted(TAMPERING))
def test_tampered_database(location: str, name: str) -> None:
    tamper, holds = TAMPERING[name]
    with store_at(location) as store:
        head_before = store.audit(ISSUER).head
    with raw_sql(location) as run:
        tamper(run)
    with store_at(location) as store:
        records = assert_same_as_verify(store)
        report = store.audit(ISSUER)
        assert report.ok is holds, report
        assert len(records) == report.events
        if name == "recomputed_chain":  # only a head published before catches it
            assert_same_as_verify(store, expect_head=head_before)
            assert not store.audit(ISSUER, head_before).ok
        if name == "huge_integer_rehashed":
            assert any(getattr(r.entry, "quantity", None) == 2**70 for r in records)
        if name == "issuer_field_changed":
            assert records[49].issuer == "someone-else"
        if name.startswith("issuer_field_typed"):
            assert records[49].issuer == stream_id(ISSUER)  # what the library decodes


def test_pages_step_over_gaps_wider_than_a_page(location: str) -> None:
    """Pages are windows of versions; a window left empty by deleted rows must not end the read."""
    with raw_sql(location) as run:
        run("DELETE FROM stored_events WHERE originator_id = :sid AND originator_version BETWEEN ? AND ?",
            SID, 40, 60)
        last = last_version(run)
    with store_at(location) as store:
        for page in (1, 7, 21, 5_000):
            versions = [row[1] for rows in store._pages(ISSUER, page) for row in rows]
            assert versions == [v for v in range(1, last + 1) if not 40 <= v <= 60]
            assert all(len(rows) <= page for rows in store._pages(ISSUER, page))
        records = assert_same_as_verify(store, page=7)
        assert len(records) == 39 and "event 40 is missing" in store.audit(ISSUER).broken.problem


def test_wrong_topic_fails_as_entries_does(location: str) -> None:
    """The chain does not cover the topic (``verify`` ignores it); decoding the row into a
    record fails, in the stream as in ``entries``."""
    with raw_sql(location) as run:
        run("UPDATE stored_events SET topic = ? WHERE originator_id = :sid AND originator_version = ?",
            "ledger.store:NoSuchEvent", SID, 12)
    with store_at(location) as store:
        assert store.audit(ISSUER) == verify(ISSUER, store.links(ISSUER))
        assert store.audit(ISSUER).ok
        with pytest.raises(Exception) as by_entries:
            store.entries(ISSUER)
        with pytest.raises(Exception) as by_stream:
            list(store.audit_stream(ISSUER))
        assert type(by_stream.value) is type(by_entries.value)


def test_audit_cli_reports_as_before(location: str) -> None:
    from tests.helpers import run_cli

    with raw_sql(location) as run:
        swapped_rows(run)
    result = run_cli("audit", "verify", "--ledger", location, "--issuer", ISSUER)
    assert result.exit_code == 1
    assert "BROKEN at event 60" in result.output and "link to the event before" in result.output


# --- the fast path's pieces against the definition ---------------------------------------------

JSON_TEXT = st.text(st.characters(exclude_categories=("Cs",)))  # no lone surrogates: not UTF-8
PLAIN_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**80), 2**80) | JSON_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(JSON_TEXT, inner, max_size=4),
    max_leaves=12,
)
MOMENTS = st.datetimes(timezones=st.sampled_from([UTC, None]) | st.timezones())


@settings(max_examples=300, deadline=None)
@given(entry=st.dictionaries(JSON_TEXT, PLAIN_JSON, max_size=6), issuer=JSON_TEXT,
       sequence=st.integers(1, 10**9), moment=MOMENTS)
def test_canonical_bytes_are_the_digest_definition(entry: dict[str, Any], issuer: str, sequence: int,
                                                   moment: datetime) -> None:
    chain = ChainCheck(issuer)
    payload = chain.canonical(sequence, moment, entry)
    definition = json.dumps({"previous": chain.head, "issuer": issuer, "sequence": sequence,
                             "recorded_at": moment.isoformat(), "entry": entry},
                            sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    if payload is None:  # only where orjson cannot: an integer beyond 64 bits
        assert "integer" in repr(orjson_error(entry)).lower()
    else:
        assert payload == definition
        digest = chain_digest(chain.head, issuer, sequence, moment, entry)
        assert hashlib.sha256(payload).hexdigest() == digest


@settings(max_examples=300, deadline=None)
@given(entry=st.dictionaries(JSON_TEXT, PLAIN_JSON, max_size=6))
def test_the_writers_digest_is_the_definition(entry: dict[str, Any]) -> None:
    """``own_sha256`` (what recording hashes entries with) gives ``sha256_of``'s digest for
    every float-free document, integers beyond 64 bits included."""
    assert own_sha256(entry) == sha256_of(entry)
    assert own_sha256({"entry": entry, "n": 2**70}) == sha256_of({"entry": entry, "n": 2**70})


def orjson_error(value: Any) -> Exception | None:
    try:
        orjson.dumps(value)
    except TypeError as err:
        return err
    return None


@settings(max_examples=300, deadline=None)
@given(value=PLAIN_JSON)
def test_plain_json_decodes_as_json_loads(value: Any) -> None:
    for text in (json.dumps(value, ensure_ascii=False), json.dumps(value), f" {json.dumps(value)}\n"):
        assert plain_json(text.encode()) == json.loads(text)


@pytest.mark.parametrize("text", ['{"a":1.5}', '{"a":[1e16]}', '{"a":NaN}', '[-Infinity]', '{"a":1E+2}'])
def test_plain_json_refuses_floats(text: str) -> None:
    with pytest.raises(ValueError):
        plain_json(text.encode())


@pytest.mark.parametrize("text", ['{"a":1} x', "", "{", '{"a":1}{'])
def test_plain_json_refuses_what_json_loads_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        json.loads(text)
    with pytest.raises(ValueError):
        plain_json(text.encode())


def test_sha256_of_is_unchanged() -> None:
    """The digest definition, pinned: the demo's head hash and every stored chain depend on it."""
    assert sha256_of({"b": 1, "a": "é"}) == hashlib.sha256('{"a":"é","b":1}'.encode()).hexdigest()
