"""The audit replay: every recorded entry, corrections included, with when and why.

Unlike the figures, history does not hide corrected or voided entries: the original stays,
marked with what later corrected or voided it, and the correction shows what it changed, who
made it and why. A split's warrant adjustments are derived, not recorded; they appear as
their own lines (type ``WarrantAdjusted``) right after the split that caused them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from ledger.book import book_entries
from ledger.entries import AnyEntry, EntryCorrected, EntryVoided, describe_changes
from ledger.records import RecordedEntry, timeline_key
from ledger.timeline import known_at as recorded_by
from ledger.timeline import timeline
from ledger.values import format_shares


@dataclass(frozen=True)
class HistoryLine:
    sequence: int
    position: int
    effective: date
    recorded_at: datetime
    entry_id: str
    type: str
    summary: str
    citation: str
    memo: str | None
    fate: str | None = None  # "corrected by X at T" / "voided by X at T", as known
    derived_from: str | None = None


_SUMMARY_FIELDS = ("issuer", "holder", "to_holder", "share_class", "to_class", "lot", "new_lot",
                   "warrant", "new_warrant", "security", "quantity", "shares", "authorized",
                   "ratio", "price_per_share", "consideration", "refund_per_share", "refund_total",
                   "total", "exercise_price", "exercisable_from", "expires", "payment",
                   "cash_per_share", "in_exchange_for", "target", "reason", "by")


def _value(value: object) -> str:
    if isinstance(value, dict) and "amount" in value:
        return f"{value['amount']} {value['currency']}"
    if isinstance(value, dict) and "new" in value:
        return f"{value['new']}-for-{value['old']}"
    if isinstance(value, int):
        return format_shares(value)
    return str(value)


def summarize(entry: AnyEntry) -> str:
    content = entry.content()
    return " ".join(f"{name}={_value(content[name])}" for name in _SUMMARY_FIELDS if name in content)


def _corrections(records: list[RecordedEntry]) -> tuple[dict[int, str], dict[str, str]]:
    """For each correction (by sequence) what it changed; for each target, its fate."""
    current: dict[str, AnyEntry] = {}
    changes: dict[int, str] = {}
    fates: dict[str, str] = {}
    for r in sorted(records, key=lambda r: r.sequence):
        e = r.entry
        when = r.recorded_at.isoformat()
        if isinstance(e, EntryCorrected) and e.target in current:
            changes[r.sequence] = describe_changes(current[e.target], e.replacement)
            current[e.target] = e.replacement
            fates[e.target] = f"corrected by {e.id} at {when}"
        elif isinstance(e, EntryVoided):
            fates[e.target] = f"voided by {e.id} at {when}"
        elif not isinstance(e, EntryCorrected):
            current[e.id] = e
    return changes, fates


def _adjustment_lines(records: list[RecordedEntry], as_of: date | None,
                      moment: datetime | None) -> dict[str, list[tuple[str, str]]]:
    """Derived warrant adjustments per split entry id: (warrant, summary)."""
    book = book_entries(r.entry for r in timeline(records, as_of, moment))
    derived: dict[str, list[tuple[str, str]]] = {}
    for w in book.warrants.values():
        for a in w.adjustments:
            derived.setdefault(a.entry, []).append((w.warrant, (
                f"warrant={w.warrant} shares {format_shares(a.shares_before)} -> "
                f"{format_shares(a.shares_after)}, exercise_price {a.price_before} -> {a.price_after}")))
    return derived


def history(
    records: Iterable[RecordedEntry],
    as_of: date | None = None,
    known_at: datetime | None = None,
    recorded_order: bool = False,
) -> list[HistoryLine]:
    """Timeline order (effective date, then sequence) by default; ``recorded_order`` gives the
    order in which entries were stored."""
    known = recorded_by(records, known_at)
    changes, fates = _corrections(known)
    derived = _adjustment_lines(known, as_of, None)
    kept = sorted((r for r in known if as_of is None or r.entry.effective <= as_of),
                  key=(lambda r: r.sequence) if recorded_order else timeline_key)
    lines = []
    for r in kept:
        e = r.entry
        summary = summarize(e)
        if r.sequence in changes:
            summary += f" | changes: {changes[r.sequence]}"
        lines.append(HistoryLine(r.sequence, r.position, e.effective, r.recorded_at, e.id, e.type,
                                 summary, str(e.citation), e.memo, fates.get(e.id)))
        lines.extend(
            HistoryLine(r.sequence, r.position, e.effective, r.recorded_at, f"{e.id}/{warrant}",
                        "WarrantAdjusted", text, str(e.citation), None, None, derived_from=e.id)
            for warrant, text in derived.get(e.id, [])
        )
    return lines
