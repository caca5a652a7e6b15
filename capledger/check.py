"""``capledger check``: the consistency laws run over a user's own ledger.

Like ``bean-check``, or a transfer agent's check that the control book agrees with the holder
file: every law of ``projections.laws`` over each issuer's log, on every date on which
something happens and at every recorded time, plus the store's own integrity (every row
reads back; the hash chain is intact). Nothing is written to the ledger: the replay law
records into a fresh in-memory store. Exit code 0 when clean, 1 when anything is found,
2 when there is no ledger at the location.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import asdict
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from capledger import render
from ledger.records import RecordedEntry
from ledger.store import LedgerStore, stream_id
from projections.laws import Finding, check


def _is_file_location(location: str) -> bool:
    return location not in (":memory:", "memory") and not location.startswith(
        ("postgresql://", "postgres://"))


def read_log(store: LedgerStore) -> tuple[dict[str, list[RecordedEntry]], list[Finding]]:
    """Every readable row, per issuer; a row that does not read back is a finding."""
    by_issuer: dict[str, list[RecordedEntry]] = {}
    unreadable: list[Finding] = []
    # Row by row (the store's own decoder), so that one bad row names itself instead of
    # hiding the whole log.
    for notification in store._notifications():
        try:
            record = store._decode(notification)
        except Exception as problem:  # any row that does not decode is what we report
            text = " ".join(str(problem).split())[:300]
            unreadable.append(Finding(
                "readable-log", f"stored row at position {notification.id} (stream version "
                                f"{notification.originator_version}) does not read back: {text}",
                entries=(f"position {notification.id}",)))
            continue
        by_issuer.setdefault(record.issuer, []).append(record)
    return by_issuer, unreadable


def audit(store: LedgerStore, issuer: str | None = None) -> dict[str, list[Finding]]:
    """Findings per issuer ("" for rows that cannot be attributed to one)."""
    by_issuer, unreadable = read_log(store)
    known = set(by_issuer)
    with contextlib.suppress(Exception):  # an unreadable first row is already a finding
        known.update(store.issuers())
    wanted = [issuer] if issuer else sorted(known)
    results: dict[str, list[Finding]] = {}
    if unreadable and not issuer:
        results[""] = unreadable
    for name in wanted:
        records = by_issuer.get(name, [])
        findings: list[Finding] = []
        if not records:
            findings.append(Finding("log-integrity", f"issuer {name!r} has no readable entries"))
        in_stream = {n.id for n in store.reader.stream(stream_id(name))}  # raw rows: no decoding
        stray = [r for r in records if r.position not in in_stream]
        if stray:
            findings.append(Finding(
                "log-integrity", f"{len(stray)} entries name issuer {name!r} but are stored in "
                                 "another issuer's stream", entries=tuple(r.entry.id for r in stray)))
        chain = store.audit(name)  # what verify(name, store.links(name)) reports, streamed
        if chain.broken is not None:
            b = chain.broken
            findings.append(Finding(
                "hash-chain", f"sequence {b.sequence}: {b.problem}",
                entries=(b.entry,) if b.entry else ()))
        if records:
            findings.extend(check([r for r in records if r.position in in_stream] or records))
        results[name] = findings
    return results


def _table(issuer: str, findings: list[Finding]) -> Table:
    table = Table(title=escape(f"Consistency check: {issuer or 'unattributed rows'}"), show_lines=True)
    for col in ("Law", "As of", "Known at", "Entries", "Finding"):
        table.add_column(col, overflow="fold")
    for f in findings:
        table.add_row(f.law, f.as_of.isoformat() if f.as_of else "-",
                      f.known_at.isoformat() if f.known_at else "-",
                      escape("\n".join(f.entries) or "-"), escape(f.message))
    return table


def run_check(location: str, issuer: str | None = None, as_json: bool = False,
              out: Console | None = None) -> int:
    """Run every law over the ledger at ``location``; print the findings; return the exit
    code (0 clean, 1 findings, 2 no ledger there)."""
    out = out or Console(width=None if sys.stdout.isatty() else 160)
    if _is_file_location(location) and not Path(location).is_file():
        Console(stderr=True).print(f"[red]error:[/red] no ledger at {location!r}")
        return 2
    store = LedgerStore(location)
    try:
        results = audit(store, issuer)
    finally:
        store.close()
    total = sum(len(f) for f in results.values())
    if as_json:
        sys.stdout.write(render.to_json({
            "ok": total == 0,
            "issuers": {name: [asdict(f) for f in findings] for name, findings in results.items()},
        }) + "\n")
        return 1 if total else 0
    if not results:
        out.print(escape(f"The ledger at {location} holds no issuer: nothing to check."))
        return 0
    for name, findings in results.items():
        if findings:
            out.print(_table(name, findings))
        else:
            out.print(escape(f"{name}: every law holds."))
    if total:
        out.print(f"[red]{total} finding(s)[/red]: the ledger is not consistent.")
        return 1
    out.print("Consistent: every law holds on every date and at every recorded time.")
    return 0
