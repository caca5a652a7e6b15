"""The baselines: a plain transactions table queried with SQL, and Beancount 3 from its file.

Both hold the generated ledger as share movements per holder (``Workload.postings``): shares
as commodity COMMON and shares under warrant as WARRANT, a split as one movement per holder,
a warrant's expiry as an explicit movement (neither knows the rules; the generator does).

    python -m benchmarks.baselines beancount FILE DATE   # cold: load the file, answer as of DATE
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.generate import Posting

SUM_SQL = ("SELECT holder, security, SUM(quantity) FROM transactions WHERE effective_date <= {mark} "
           "GROUP BY holder, security")


# --- plain SQL ---------------------------------------------------------------------------------


def sqlite_table(path: str, postings: list[Posting]) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.execute("DROP TABLE IF EXISTS transactions")
    db.execute("CREATE TABLE transactions (id INTEGER PRIMARY KEY, holder TEXT NOT NULL, "
               "security TEXT NOT NULL, effective_date TEXT NOT NULL, quantity INTEGER NOT NULL)")
    db.executemany("INSERT INTO transactions (holder, security, effective_date, quantity) "
                   "VALUES (?, ?, ?, ?)", [(h, s, d.isoformat(), q) for d, h, s, q in postings])
    db.execute("CREATE INDEX transactions_date ON transactions (effective_date)")
    db.commit()
    db.execute("ANALYZE")
    return db


def sqlite_sum(db: sqlite3.Connection, as_of: date) -> dict[tuple[str, str], int]:
    rows = db.execute(SUM_SQL.format(mark="?"), (as_of.isoformat(),)).fetchall()
    return {(h, s): q for h, s, q in rows}


def postgres_table(conn: Any, postings: list[Posting]) -> None:
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS transactions")
        cur.execute("CREATE TABLE transactions (id BIGSERIAL PRIMARY KEY, holder TEXT NOT NULL, "
                    "security TEXT NOT NULL, effective_date DATE NOT NULL, quantity BIGINT NOT NULL)")
        with cur.copy("COPY transactions (holder, security, effective_date, quantity) FROM STDIN") as copy:
            for d, h, s, q in postings:
                copy.write_row((h, s, d, q))
        cur.execute("CREATE INDEX transactions_date ON transactions (effective_date)")
        cur.execute("ANALYZE transactions")
    conn.commit()


def postgres_sum(conn: Any, as_of: date) -> dict[tuple[str, str], int]:
    with conn.cursor() as cur:
        cur.execute(SUM_SQL.format(mark="%s"), (as_of,))
        return {(h, s): int(q) for h, s, q in cur.fetchall()}


# --- Beancount ---------------------------------------------------------------------------------


def account(holder: str) -> str:
    return f"Assets:Holders:{holder.upper()}"


def write_beancount(path: Path, postings: list[Posting], holders: int, first: date) -> None:
    """One transaction per (date, holder, security) movement, balanced against Equity:Issued."""
    lines = ['option "title" "bench-co cap table"', "",
             f"{first.isoformat()} commodity COMMON", f"{first.isoformat()} commodity WARRANT",
             f"{first.isoformat()} open Equity:Issued"]
    lines += [f"{first.isoformat()} open {account(f'h{i:05d}')}" for i in range(1, holders + 1)]
    lines.append("")
    for d, h, s, q in postings:
        lines += [f'{d.isoformat()} * "{s} {h}"', f"  {account(h)}  {q} {s}",
                  f"  Equity:Issued  {-q} {s}", ""]
    path.write_text("\n".join(lines))


def beancount_answer(path: str, as_of: date) -> dict[str, Any]:
    """Load the file (parse, book, validate) and sum each holder's positions as of ``as_of``."""
    t0 = time.perf_counter()
    from beancount import loader
    from beancount.core import data

    loader.initialize(use_cache=False)  # no pickle cache beside the file: every run parses and books it
    entries, errors, _ = loader.load_file(path)
    t1 = time.perf_counter()
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for entry in entries:
        if isinstance(entry, data.Transaction) and entry.date <= as_of:
            for p in entry.postings:
                if p.account.startswith("Assets:Holders:") and p.units is not None:
                    totals[(p.account, p.units.currency)] += int(p.units.number)
    t2 = time.perf_counter()
    return {"load_s": t1 - t0, "query_s": t2 - t1, "errors": len(errors), "entries": len(entries),
            "holders": len({a for a, _ in totals}),
            "totals": {f"{a}|{c}": q for (a, c), q in sorted(totals.items()) if q}}


if __name__ == "__main__":
    if sys.argv[1] == "beancount":
        print(json.dumps(beancount_answer(sys.argv[2], date.fromisoformat(sys.argv[3]))))
