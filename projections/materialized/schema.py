"""The view tables, their indexes, and the two SQL dialects.

Every view table has ``issuer``, its own columns (``rows.derive`` fills them, in this order,
ending with the effective interval ``eff_from``, ``eff_to``), and the recorded interval
``rec_from``, ``rec_to`` in the issuer's sequence numbers (``CURRENT`` while the row holds).
A row answers "as of D, known at version V" when

    eff_from <= D < eff_to  AND  rec_from <= V < rec_to

Dates are ISO text ('YYYY-MM-DD' sorts as dates do) and amounts exact decimal text, on both
backends: the only dialect differences are the placeholder and the integer type.
"""

from __future__ import annotations

from dataclasses import dataclass

CURRENT = 2**63 - 1  # rec_to of a row still believed (the largest 64-bit integer)
VIEWS = "capledger-views"  # the name this projector's tracking records go under


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]  # in row order; "n:" marks an integer column
    key: tuple[str, ...]  # unique among an issuer's current rows: how a row is closed
    extra_index: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.removeprefix("n:") for c in self.columns)


_INTERVAL = ("eff_from", "eff_to")
TABLES = (
    # One row per lot: the facts fixed at acquisition (a correction replaces the row).
    Table("view_lots", ("lot", "holder", "share_class", "acquired", "held_since", "n:acquired_shares",
                        "origin", "from_warrant", "from_lot", *_INTERVAL),
          key=("lot",), extra_index=("holder",)),
    # A lot's shares and cumulative changes per kind (JSON text) between two of its movements.
    Table("view_lot_segments", ("lot", "holder", "share_class", "n:shares", "changes", *_INTERVAL),
          key=("lot", "eff_from"), extra_index=("holder",)),
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
    # A share class's name, authorized and outstanding shares between two changes.
    Table("view_classes", ("share_class", "name", "n:authorized", "n:outstanding", *_INTERVAL),
          key=("share_class", "eff_from")),
    # The issuer (role 'issuer') and its holders (role 'holder') from the date they exist.
    Table("view_parties", ("role", "party", "name", *_INTERVAL), key=("role", "party")),
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
            # One version of a row per key and recording: also what makes a duplicate impossible.
            f"CREATE UNIQUE INDEX IF NOT EXISTS {t.name}_key ON {t.name} "
            f"(issuer, {', '.join(t.key)}, rec_from)",
            # "As of D, known at V": equality on issuer (and rec_to = CURRENT for the present).
            f"CREATE INDEX IF NOT EXISTS {t.name}_asof ON {t.name} (issuer, rec_to, eff_to, eff_from)",
        ]
        if t.extra_index:
            statements.append(
                f"CREATE INDEX IF NOT EXISTS {t.name}_by_{'_'.join(t.extra_index)} ON {t.name} "
                f"(issuer, {', '.join(t.extra_index)}, rec_to, eff_to, eff_from)")
    return statements


def insert_statement(t: Table) -> str:
    names = ("issuer", *t.names, "rec_from", "rec_to")
    return f"INSERT INTO {t.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"


def close_statement(t: Table) -> str:
    """End a current row's recorded interval: the only UPDATE the views ever run."""
    keys = " AND ".join(f"{k} = ?" for k in t.key)
    return f"UPDATE {t.name} SET rec_to = ? WHERE issuer = ? AND {keys} AND rec_to = {CURRENT}"


def current_statement(t: Table) -> str:
    return f"SELECT {', '.join(t.names)} FROM {t.name} WHERE issuer = ? AND rec_to = {CURRENT}"
