"""The view tables, their indexes, and the two SQL dialects.

Every view table has ``issuer``, its own columns (``rows.derive`` fills them, in this order,
ending with the effective interval ``eff_from``, ``eff_to``), and the recorded interval
``rec_from``, ``rec_to`` in the issuer's sequence numbers (``CURRENT`` while the row holds).
A row answers "as of D, known at version V" when

    eff_from <= D < eff_to  AND  rec_from <= V < rec_to

Dates are ISO text ('YYYY-MM-DD' sorts as dates do) and amounts exact decimal text, on both
backends: the only dialect differences are the placeholder and the integer type.

``view_positions`` and ``view_classes`` also have a ``fork`` column: their rows are found by date
through a relational interval tree (``fork``, ``path``), so "as of D" reads the rows that hold
on D and no others.
``SCHEMA`` marks the tables' layout: a database whose view tables carry another mark (or none)
has them dropped and rebuilt from the log (``recorders``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

CURRENT = 2**63 - 1  # rec_to of a row still believed (the largest 64-bit integer)
VIEWS = "capledger-views"  # the name this projector's tracking records go under
# The layout of the view tables. Change it with any table, column or index: opening views whose
# tables carry another number (or none: before view_positions) drops them and re-projects the log.
SCHEMA = 3


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]  # in row order; "n:" marks an integer column
    key: tuple[str, ...]  # unique among an issuer's current rows: how a row is closed
    extra_index: tuple[str, ...] = ()
    forked: bool = False  # has a ``fork`` column: indexed for the interval tree, not "asof"
    # Appended to the fork indexes (forked) or to the ``extra_index`` one: read without the table.
    covering: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.removeprefix("n:") for c in self.columns)


_INTERVAL = ("eff_from", "eff_to")
TABLES = (
    # One row per lot: the facts fixed at acquisition (a correction replaces the row).
    # One holder's lots and lot segments are read by the holder index alone (covering): their
    # rows lie all over the table (written in recording order), and fetching each from it was
    # most of one holder's position at 1M events (1.15 ms -> 0.8 ms p50, docs/performance.md).
    Table("view_lots", ("lot", "holder", "share_class", "acquired", "held_since", "n:acquired_shares",
                        "origin", "from_warrant", "from_lot", *_INTERVAL),
          key=("lot",), extra_index=("holder",),
          covering=("rec_from", "lot", "acquired", "held_since", "acquired_shares", "origin",
                    "from_warrant", "from_lot")),
    # A lot's shares and cumulative changes per kind (JSON text) between two of its movements.
    Table("view_lot_segments", ("lot", "holder", "share_class", "n:shares", "changes", *_INTERVAL),
          key=("lot", "eff_from"), extra_index=("holder",),
          covering=("rec_from", "shares", "lot", "share_class", "changes")),
    # Everything a WarrantView needs, between two changes to the warrant; adjustments JSON text.
    Table("view_warrant_segments", (
        "warrant", "holder", "share_class", "issued", "status", "status_date", "n:shares", "n:exercised",
        "price", "currency", "exercisable_from", "expires", "origin", "replaces", "replaced_by",
        "issued_for", "adjustments", *_INTERVAL), key=("warrant", "eff_from"), extra_index=("holder",)),
    # Money between a holder and the issuer; counts from max(entry's date, payment's date).
    # (entry_effective, entry_sequence, entry_index) is the order the fold booked it in.
    Table("view_payments", ("holder", "paid_on", "kind", "amount", "currency", "entry", "security",
                            "entry_effective", "n:entry_sequence", "n:entry_index", *_INTERVAL),
          key=("entry_sequence", "entry_index"), extra_index=("holder",)),
    # A share class's name, authorized and outstanding shares between two changes (these come
    # with most entries, so the class has a row per date: found through the interval tree).
    Table("view_classes", ("share_class", "name", "n:authorized", "n:outstanding", "n:fork", *_INTERVAL),
          key=("share_class", "eff_from"), forked=True),
    # The issuer (role 'issuer') and its holders (role 'holder') from the date they exist.
    Table("view_parties", ("role", "party", "name", *_INTERVAL), key=("role", "party")),
    # A holder's position in one class between two changes to it: the shares of its lots with
    # shares remaining (NULL: no such lot), and the shares under its warrants for the class that
    # are outstanding and not past their expiry (NULL: none). Sums of the lot and warrant
    # segments, so the cap table reads one row per position instead of one per lot. The
    # holder's name comes along, so the cap table needs no row per holder from view_parties.
    # Its fork indexes carry the columns the cap table reads: one table lookup per position
    # held was more than half of the cost at 10,000 holders on SQLite (14 ms -> 6 ms).
    Table("view_positions", ("holder", "name", "share_class", "n:shares", "n:warrant_shares", "n:fork",
                             *_INTERVAL), key=("holder", "share_class", "eff_from"), forked=True,
          covering=("rec_from", "holder", "name", "share_class", "shares", "warrant_shares")),
)
BY_NAME = {t.name: t for t in TABLES}


@dataclass(frozen=True)
class Dialect:
    mark: str  # the DB-API placeholder
    integer: str  # a 64-bit integer

    def sql(self, text: str) -> str:
        """Write statements with '?' and let the dialect place its own marks."""
        return text.replace("?", self.mark)


SQLITE = Dialect("?", "INTEGER")
POSTGRES = Dialect("%s", "BIGINT")


def create_statements(d: Dialect) -> list[str]:
    statements = [
        # Which sequence numbers were recorded when: maps "known at T" to a version.
        f"CREATE TABLE IF NOT EXISTS view_recordings (issuer TEXT NOT NULL, sequence {d.integer} NOT NULL, "
        f"position {d.integer} NOT NULL, recorded_at TEXT NOT NULL, PRIMARY KEY (issuer, sequence))",
        "CREATE INDEX IF NOT EXISTS view_recordings_at ON view_recordings (issuer, recorded_at, sequence)",
    ]
    for t in TABLES:
        columns = ", ".join(f"{c.removeprefix('n:')} {d.integer if c.startswith('n:') else 'TEXT'}"
                            for c in t.columns)
        statements += [
            f"CREATE TABLE IF NOT EXISTS {t.name} (issuer TEXT NOT NULL, {columns}, "
            f"rec_from {d.integer} NOT NULL, rec_to {d.integer} NOT NULL)",
            # One current row per key (rec_to = CURRENT), and one per key closed by a recording:
            # what makes a duplicate impossible, and the index that closes a row
            # (``close_statement``). It ended in rec_from until layout 2.
            f"CREATE UNIQUE INDEX IF NOT EXISTS {t.name}_key ON {t.name} "
            f"(issuer, {', '.join(t.key)}, rec_to)",
        ]
        if t.forked:
            # The interval tree: for each fork on D's path, one range (``path``). rec_to comes
            # first so that rows no longer believed are never read for the present.
            more = "".join(f", {c}" for c in t.covering)
            statements += [
                f"CREATE INDEX IF NOT EXISTS {t.name}_fork_to ON {t.name} "
                f"(issuer, rec_to, fork, eff_to{more})",
                f"CREATE INDEX IF NOT EXISTS {t.name}_fork_from ON {t.name} "
                f"(issuer, rec_to, fork, eff_from{more})",
            ]
        else:
            # "As of D, known at V": equality on issuer (and rec_to = CURRENT for the present).
            statements.append(
                f"CREATE INDEX IF NOT EXISTS {t.name}_asof ON {t.name} (issuer, rec_to, eff_to, eff_from)")
        if t.extra_index:
            more = "" if t.forked else "".join(f", {c}" for c in t.covering)
            statements.append(
                f"CREATE INDEX IF NOT EXISTS {t.name}_by_{'_'.join(t.extra_index)} ON {t.name} "
                f"(issuer, {', '.join(t.extra_index)}, rec_to, eff_to, eff_from{more})")
    return statements


def insert_statement(t: Table) -> str:
    names = ("issuer", *t.names, "rec_from", "rec_to")
    return f"INSERT INTO {t.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"


def close_statement(t: Table) -> str:
    """End a current row's recorded interval: the only UPDATE the views ever run, by the key
    index. The unary + keeps both planners off the indexes that start (issuer, rec_to), which
    read every current row of the issuer for each row closed: PostgreSQL took them without
    statistics, or with early ones (100k events: 85 s closing lot segments, 238 s closing
    positions, of a 416 s build), and SQLite took them for view_lots and the forked tables
    while the key index ended in rec_from."""
    keys = " AND ".join(f"{k} = ?" for k in t.key)
    return f"UPDATE {t.name} SET rec_to = ? WHERE issuer = ? AND {keys} AND +rec_to = {CURRENT}"


def current_statement(t: Table) -> str:
    return f"SELECT {', '.join(t.names)} FROM {t.name} WHERE issuer = ? AND rec_to = {CURRENT}"


def drop_statements() -> list[str]:
    """Every view table (their indexes go with them): run before re-projecting the log."""
    return [f"DROP TABLE IF EXISTS {name}" for name in ("view_recordings", *(t.name for t in TABLES))]


# --- the relational interval tree ------------------------------------------------------------
#
# "Which rows hold on D" over intervals [eff_from, eff_to) is a stabbing query, which a B-tree on
# eff_from or eff_to answers only by reading every row that starts before D (or ends after it).
# The relational interval tree (Kriegel, Pötke, Seidl, VLDB 2000) fixes that with one integer per
# row. Days are numbered (``date.toordinal``, 1 .. 3,652,059) and seen as the nodes of a virtual
# balanced binary tree over 1 .. 2^LEVELS - 1: node n with t trailing zero bits covers
# [n - 2^t + 1, n + 2^t - 1]. A row's ``fork`` is the highest node inside its days [lo, hi]
# (hi = eff_to - 1), and the row lies within that node's subtree. So a row holding on D has its
# fork on the path from the root down to D, and on that path:
#
#   fork n < D:  the row holds on D  iff  eff_to > D      (it already starts by n < D)
#   fork n >= D: the row holds on D  iff  eff_from <= D   (it already runs past n >= D)
#
# One index range per node on the path, LEVELS at most, and each returns only rows that hold.
LEVELS = 22  # 2^22 > the day number of 9999-12-31


@lru_cache(maxsize=1 << 16)  # rows are made again each time their object changes
def _ordinal(day: str) -> int:
    return date.fromisoformat(day).toordinal()


def fork(eff_from: str, eff_to: str) -> int:
    """The node of the interval [eff_from, eff_to): the number in [lo, hi] with the most
    trailing zero bits, i.e. hi with its low bits cleared as far as it stays >= lo."""
    lo, hi = _ordinal(eff_from), _ordinal(eff_to) - 1
    low = (hi ^ (lo - 1)).bit_length() - 1  # the highest bit where hi and lo - 1 differ
    return hi >> low << low


def path(day: date) -> tuple[list[int], list[int]]:
    """The nodes from the root down to ``day``: (those below it, those at or above it)."""
    d, below, above = day.toordinal(), list[int](), list[int]()
    for t in range(LEVELS - 1, -1, -1):
        node = d >> (t + 1) << (t + 1) | 1 << t  # the ancestor of d with t trailing zeros
        (below if node < d else above).append(node)
        if node == d:
            break
    return below, above
