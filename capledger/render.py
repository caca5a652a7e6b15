"""Presenting query results: rich tables for people, JSON for machines."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from pydantic import BaseModel
from rich.console import Group
from rich.table import Table
from rich.text import Text

from projections import CapTable, Diff, HistoryLine, HolderConsideration, Position, WarrantView


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Decimal):
        return str(value)  # exact, scale kept: never a JSON float
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


def _tree(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, list):
        return [_tree(v) for v in value]
    return value


def to_json(value: Any) -> str:
    """Indented JSON: dates as ISO text, Decimals as exact text. orjson walks the dataclasses
    itself (``asdict`` and the standard encoder took 0.2 s of a 0.3 s cold cap table at 100k
    events); the standard library writes what it cannot (an integer beyond 64 bits), the same
    text."""
    try:
        return orjson.dumps(value, default=_plain,
                            option=orjson.OPT_INDENT_2 | orjson.OPT_PASSTHROUGH_DATETIME).decode()
    except orjson.JSONEncodeError:
        return json.dumps(_tree(value), default=_plain, indent=2, ensure_ascii=False)


def shares(n: int) -> str:
    return f"{n:,}"


def amount(total: dict[str, Decimal]) -> str:
    return ", ".join(f"{value:,} {cur}" for cur, value in total.items()) or "0"


def day(d: date | None) -> str:
    return d.isoformat() if d else "-"


def title(what: str, as_of: date, known_at: datetime | None) -> str:
    known = f", as known at {known_at.isoformat()}" if known_at else ""
    return f"{what} as of {as_of.isoformat()}{known}"


def holdings_table(positions: Sequence[Position], caption: str) -> Table:
    table = Table(title=caption)
    for col in ("Holder", "Class", "Lot", "Acquired", "Held since", "Acquired shares", "Changes",
                "Shares", "From"):
        table.add_column(col, justify="right" if "hares" in col else "left", overflow="fold")
    for p in positions:
        changes = ", ".join(f"{kind} {n:+,}" for kind, n in p.changes.items()) or "-"
        source = f"lot {p.from_lot}" if p.from_lot else (
            f"warrant {p.from_warrant}" if p.from_warrant else "purchase")
        table.add_row(p.holder, p.share_class, p.lot, day(p.acquired), day(p.held_since),
                      shares(p.acquired_shares), changes, shares(p.shares), source)
    if positions:
        table.add_section()
        table.add_row("Total", "", "", "", "", "", "", shares(sum(p.shares for p in positions)), "")
    return table


def warrants_table(views: Sequence[WarrantView], caption: str) -> Table:
    table = Table(title=caption)
    for col in ("Warrant", "Holder", "Class", "Status", "Shares", "Price", "Exercisable from",
                "Expires", "Exercisable", "Next change", "Lineage"):
        table.add_column(col, justify="right" if col in ("Shares", "Price") else "left", overflow="fold")
    for w in views:
        status = w.status + (f" {day(w.status_date)}" if w.status_date else "")
        lineage = "; ".join(filter(None, [
            f"replaces {w.replaces}" if w.replaces else "",
            f"replaced by {w.replaced_by}" if w.replaced_by else "",
            f"issued for {w.issued_for}" if w.issued_for else "",
            *(f"{a.entry}: {shares(a.shares_before)} at {a.price_before} -> "
              f"{shares(a.shares_after)} at {a.price_after}" for a in w.adjustments),
        ]))
        table.add_row(w.warrant, w.holder, w.share_class, status, shares(w.shares),
                      str(w.exercise_price), day(w.exercisable_from), day(w.expires),
                      "yes" if w.exercisable else "no", day(w.next_change), lineage or "-")
    return table


def cap_table_table(cap: CapTable, caption: str) -> Table:
    classes = sorted(cap.authorized)
    table = Table(title=caption)
    table.add_column("Holder", overflow="fold")
    for cls in classes:
        table.add_column(cls, justify="right")
    for col in ("Warrant shares", "Fully diluted", "% fully diluted"):
        table.add_column(col, justify="right")
    for row in cap.rows:
        table.add_row(row.name, *(shares(row.shares.get(c, 0)) for c in classes),
                      shares(row.warrant_shares), shares(row.fully_diluted),
                      f"{row.percent_fully_diluted}%")
    table.add_section()
    table.add_row("Outstanding", *(shares(cap.outstanding[c]) for c in classes),
                  shares(cap.warrant_shares), shares(cap.fully_diluted), "100.0000%")
    table.add_row("Authorized", *(shares(cap.authorized[c]) for c in classes), "", "", "")
    return table


def consideration_table(rows: Sequence[HolderConsideration], caption: str) -> Table:
    table = Table(title=caption)
    for col in ("Holder", "Date", "Entry", "Security", "Kind", "Paid in", "Paid out"):
        table.add_column(col, justify="right" if col.startswith("Paid") else "left", overflow="fold")
    for row in rows:
        for m in row.movements:
            paid, out = (str(m.amount), "") if m.direction == "paid" else ("", str(m.amount))
            table.add_row(row.holder, day(m.effective), m.entry, m.security, m.direction, paid, out)
        table.add_section()
        table.add_row(row.holder, "total", "", "", "paid", amount(row.paid), "")
        for kind, total in (("refunded", row.refunded), ("repurchased", row.repurchased),
                            ("cash in lieu", row.cash_in_lieu)):
            if total:
                table.add_row(row.holder, "total", "", "", kind, "", amount(total))
        table.add_row(row.holder, "net paid", "", "", "", amount(row.net), "")
        table.add_section()
    return table


def history_table(lines: Sequence[HistoryLine], caption: str) -> Table:
    table = Table(title=caption, show_lines=True)
    for col in ("Seq", "Effective", "Recorded (UTC)", "Entry", "What", "Citation"):
        table.add_column(col, overflow="fold")
    for h in lines:
        what = Text.assemble((h.type, "bold"), " ", h.summary)
        if h.fate:
            what.append(f"\n{h.fate}", style="yellow")
        if h.memo:
            what.append(f"\n{h.memo}", style="dim")
        table.add_row(str(h.sequence) if not h.derived_from else "", day(h.effective),
                      h.recorded_at.strftime("%Y-%m-%d %H:%M:%S.%f"), h.entry_id, what, h.citation)
    return table


def diff_tables(result: Diff) -> Group:
    caption = (f"Changes to the answers as of {result.as_of} between {result.before.isoformat()} "
               f"and {result.after.isoformat()}")
    changes = Table(title=caption)
    for col in ("View", "Figure", "Before", "After"):
        changes.add_column(col, overflow="fold")
    for c in result.changes:
        changes.add_row(c.view, c.subject, c.before, c.after)
    if not result.changes:
        changes.add_row("-", "nothing changed", "", "")
    causes = history_table(result.causes, "Entries recorded in between")
    return Group(changes, causes)
