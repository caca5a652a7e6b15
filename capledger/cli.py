"""The ``capledger`` command: the one place that wires the write side to the read side.

Exit codes: 0 success; 1 input rejected (nothing stored) or unknown issuer; 2 bad usage.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

import projections
from capledger import render
from capledger.audit_cli import audit_app
from capledger.ocf_cli import export_app, import_app
from capledger.report_cli import explain, report_app
from ledger.application import Ledger
from ledger.errors import LedgerError, UnknownIssuer
from ledger.records import RecordedEntry
from projections.materialized import MaterializedViews

DEFAULT_LEDGER = "capledger.sqlite"

app = typer.Typer(
    help="An event-sourced cap-table ledger: record cited entries, ask what was true on any date.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Piped output (files, CI logs) gets wide tables rather than rich's 80-column default;
# COLUMNS still wins when set.
PIPED_WIDTH = None if "COLUMNS" in os.environ else 220
out = Console(width=None if sys.stdout.isatty() else PIPED_WIDTH)
err = Console(stderr=True, width=None if sys.stderr.isatty() else PIPED_WIDTH)

LedgerOpt = Annotated[str, typer.Option(
    "--ledger", envvar="CAPLEDGER_LEDGER",
    help="Where the ledger is: an SQLite file path (created on first use), or a "
         "postgresql:// URL. [env: CAPLEDGER_LEDGER]",
)]
IssuerOpt = Annotated[str | None, typer.Option(
    "--issuer", envvar="CAPLEDGER_ISSUER",
    help="Issuer id; may be left out when the ledger holds one issuer. [env: CAPLEDGER_ISSUER]",
)]
AsOfOpt = Annotated[str | None, typer.Option(
    "--as-of", help="Effective date YYYY-MM-DD: entries effective on or before it count "
                    "(default: today, UTC).",
)]
KnownAtOpt = Annotated[str | None, typer.Option(
    "--known-at", help="Recorded time: only entries recorded by then count. ISO date-time "
                       "(naive means UTC) or a date (meaning the end of that day, UTC).",
)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
FoldOpt = Annotated[bool, typer.Option(
    "--fold", help="Replay the log through the pure fold instead of reading the materialized "
                   "views (same answer; the fold is the reference).")]


def complain(message: str) -> None:
    # Plain text: messages hold [rule-codes] and figures that rich must not treat as markup.
    err.print(f"error: {message}", style="red", markup=False, highlight=False, soft_wrap=True)


def fail_usage(message: str) -> typer.Exit:
    complain(message)
    return typer.Exit(2)


def parse_as_of(text: str | None) -> date:
    if text is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail_usage(f"--as-of {text!r} is not a date like 2002-07-25") from None


def parse_known_at(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time.max, UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise fail_usage(f"--known-at {text!r} is not a date or ISO date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@contextmanager
def opened(location: str, create: bool = False) -> Iterator[Ledger]:
    """Open the ledger; only ``record`` (create=True) may start a new SQLite file."""
    ledger = Ledger.open(location, create=create)
    try:
        yield ledger
    finally:
        ledger.close()


@contextmanager
def user_errors() -> Iterator[None]:
    """Input problems become a message and exit 1, never a traceback."""
    try:
        yield
    except LedgerError as problem:
        complain(str(problem))
        raise typer.Exit(1) from None


def pick_issuer(ledger: Ledger, issuer: str | None) -> str:
    if issuer:
        return issuer
    known = ledger.issuers()
    if len(known) == 1:
        return known[0]
    if not known:
        raise fail_usage(f"the ledger {ledger.store.location!r} is empty: record a journal first")
    raise fail_usage(f"the ledger holds several issuers ({', '.join(known)}): pass --issuer")


def query(
    location: str, issuer: str | None,
    run: Callable[[list[RecordedEntry]], Any],
) -> Any:
    """Answer from the log with the pure fold (the reference)."""
    with user_errors(), opened(location) as ledger:
        return run(ledger.entries(pick_issuer(ledger, issuer)))


def ask(
    location: str, issuer: str | None, fold: bool,
    from_fold: Callable[[list[RecordedEntry]], Any],
    from_views: Callable[[MaterializedViews, str], Any],
) -> Any:
    """Answer from the materialized views (brought up to date first), or with ``--fold`` by
    replaying the log through the pure fold. Both give the same answer; the views are fast."""
    if fold:
        return query(location, issuer, from_fold)
    with user_errors(), opened(location) as ledger:
        chosen = pick_issuer(ledger, issuer)
        known = ledger.issuers()  # one row per issuer: cheap, unlike reading the log
        if chosen not in known:
            raise UnknownIssuer(chosen, known)
        return from_views(MaterializedViews.open(ledger.store), chosen)


@app.command()
def record(
    journal: Annotated[Path, typer.Argument(help="A YAML journal; all its entries or none.")],
    ledger_location: LedgerOpt = DEFAULT_LEDGER,
    as_json: JsonOpt = False,
) -> None:
    """Validate a journal against the ledger and store all of it, or nothing."""
    from ledger.journal import load_journal  # YAML: only this command reads it

    with user_errors():
        parsed = load_journal(journal)
        with opened(ledger_location, create=True) as ledger:
            done = ledger.record(parsed.issuer, parsed.entries)
    if as_json:
        sys.stdout.write(render.to_json({
            "issuer": done.issuer, "stored": [r.entry.id for r in done.stored],
            "sequences": [r.sequence for r in done.stored],
            "recorded_at": done.stored[0].recorded_at if done.stored else None,
            "already_recorded": done.already_recorded,
        }) + "\n")
        return
    if done.stored:
        first, last = done.stored[0], done.stored[-1]
        out.print(f"Recorded {len(done.stored)} entries for {done.issuer} from {journal} "
                  f"(sequence {first.sequence}-{last.sequence}) at {first.recorded_at.isoformat()}")
    if done.already_recorded:
        out.print(f"{done.already_recorded} entries were already recorded with the same content "
                  "(nothing to do for them)")


@app.command()
def holdings(ledger_location: LedgerOpt = DEFAULT_LEDGER, issuer: IssuerOpt = None,
             as_of: AsOfOpt = None, known_at: KnownAtOpt = None, as_json: JsonOpt = False,
             fold: FoldOpt = False) -> None:
    """Shares held per holder, class and lot."""
    day, known = parse_as_of(as_of), parse_known_at(known_at)
    rows = ask(ledger_location, issuer, fold, lambda r: projections.holdings(r, day, known),
               lambda v, i: v.holdings(i, day, known))
    show(rows, as_json, lambda: render.holdings_table(rows, render.title("Holdings", day, known)))


@app.command()
def warrants(ledger_location: LedgerOpt = DEFAULT_LEDGER, issuer: IssuerOpt = None,
             as_of: AsOfOpt = None, known_at: KnownAtOpt = None, as_json: JsonOpt = False,
             fold: FoldOpt = False) -> None:
    """Every warrant: status, shares, terms in force, exercisable or not, next change."""
    day, known = parse_as_of(as_of), parse_known_at(known_at)
    rows = ask(ledger_location, issuer, fold, lambda r: projections.warrants(r, day, known),
               lambda v, i: v.warrants(i, day, known))
    show(rows, as_json, lambda: render.warrants_table(rows, render.title("Warrants", day, known)))


@app.command()
def captable(ledger_location: LedgerOpt = DEFAULT_LEDGER, issuer: IssuerOpt = None,
             as_of: AsOfOpt = None, known_at: KnownAtOpt = None, as_json: JsonOpt = False,
             fold: FoldOpt = False) -> None:
    """Outstanding shares by class, warrant shares, fully diluted total and % per holder."""
    day, known = parse_as_of(as_of), parse_known_at(known_at)
    cap = ask(ledger_location, issuer, fold, lambda r: projections.cap_table(r, day, known),
              lambda v, i: v.cap_table(i, day, known))
    show(cap, as_json, lambda: render.cap_table_table(cap, render.title("Cap table", day, known)))


@app.command()
def consideration(ledger_location: LedgerOpt = DEFAULT_LEDGER, issuer: IssuerOpt = None,
                  as_of: AsOfOpt = None, known_at: KnownAtOpt = None,
                  as_json: JsonOpt = False, fold: FoldOpt = False) -> None:
    """Consideration paid in and refunded, per holder."""
    day, known = parse_as_of(as_of), parse_known_at(known_at)
    rows = ask(ledger_location, issuer, fold, lambda r: projections.consideration(r, day, known),
               lambda v, i: v.consideration(i, day, known))
    show(rows, as_json,
         lambda: render.consideration_table(rows, render.title("Consideration", day, known)))


@app.command()
def history(
    ledger_location: LedgerOpt = DEFAULT_LEDGER, issuer: IssuerOpt = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Only entries effective on or before this date (default: all).")] = None,
    known_at: KnownAtOpt = None,
    recorded_order: Annotated[bool, typer.Option(
        "--recorded-order", help="List in the order recorded instead of the order applied.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """The audit replay: every entry in the order it applies, with recorded time and citation."""
    day = parse_as_of(as_of) if as_of else None
    known = parse_known_at(known_at)
    rows = query(ledger_location, issuer,
                 lambda r: projections.history(r, day, known, recorded_order))
    caption = "History" + (f" to {day}" if day else "") + (f", as known at {known}" if known else "")
    show(rows, as_json, lambda: render.history_table(rows, caption))


@app.command()
def diff(
    as_of: Annotated[str, typer.Option("--as-of", help="The effective date whose answers to compare.")],
    known_at: Annotated[list[str], typer.Option(
        "--known-at", help="Two recorded times to compare (earlier first); one compares it with now.")],
    ledger_location: LedgerOpt = DEFAULT_LEDGER, issuer: IssuerOpt = None, as_json: JsonOpt = False,
) -> None:
    """What changed in the answers for one date between two recorded times, and the entries
    recorded in between that caused it."""
    if len(known_at) not in (1, 2):
        raise fail_usage("give --known-at once (compare with now) or twice")
    day = parse_as_of(as_of)
    moments = [parse_known_at(t) for t in known_at] + [datetime.now(UTC)]
    before, after = moments[0], moments[1]
    assert before is not None and after is not None
    if after < before:
        raise fail_usage("the first --known-at must be the earlier one")
    result = query(ledger_location, issuer, lambda r: projections.diff(r, day, before, after))
    show(result, as_json, lambda: render.diff_tables(result))


@app.command()
def issuers(ledger_location: LedgerOpt = DEFAULT_LEDGER, as_json: JsonOpt = False) -> None:
    """The issuers this ledger holds."""
    with user_errors(), opened(ledger_location) as ledger:
        known = ledger.issuers()
    show(known, as_json, lambda: "\n".join(known))


@app.command()
def copy(
    source: Annotated[str, typer.Argument(help="The ledger to copy: an SQLite file or a postgresql:// URL.")],
    target: Annotated[str, typer.Argument(help="An empty ledger to copy into (a new SQLite file, or a "
                                               "postgresql:// URL of a database without capledger tables).")],
) -> None:
    """Copy a ledger to another store, e.g. from SQLite to PostgreSQL: every event byte for
    byte, then every issuer's hash chain checked on the target. The source is not changed."""
    from rich.progress import Progress

    with user_errors(), opened(source) as src, opened(target, create=True) as dst:
        with Progress(console=err, transient=True) as bar:
            task = bar.add_task("copying events", total=src.store.app.recorder.max_notification_id() or 0)
            copied = src.store.copy_to(dst.store, lambda n: bar.update(task, completed=n))
        for issuer in src.issuers():
            # Streamed (a page at a time): a million-event ledger is not held in memory.
            was, now = src.store.audit(issuer), dst.store.audit(issuer)
            if not now.ok or (was.events, was.head) != (now.events, now.head):
                complain(f"{issuer}: the copy does not match the source (source {was.events} events, "
                         f"head {was.head}; copy {now.events}, head {now.head}); discard {target!r}")
                raise typer.Exit(1)
            out.print(f"{issuer}: {now.events} events, chain verified, head {now.head}")
    out.print(f"Copied {copied} events from {source} to {target}")


app.add_typer(audit_app, name="audit")


app.add_typer(report_app, name="report", help="Reports: the stockholder ledger, an HTML report.")
app.command("explain")(explain)


@app.command()
def check(ledger_location: LedgerOpt = DEFAULT_LEDGER, issuer: IssuerOpt = None,
          as_json: JsonOpt = False) -> None:
    """Consistency audit: every law (conservation, no negative position, time locality, order
    independence, replay, round trip, warrants) on every date and recorded time. Exit 1 if
    anything is found."""
    from capledger.check import run_check

    raise typer.Exit(run_check(ledger_location, issuer, as_json, out))


app.add_typer(export_app, name="export", help="Export the ledger to another format.")
app.add_typer(import_app, name="import", help="Import a ledger from another format.")


def show(value: Any, as_json: bool, table: Callable[[], Any]) -> None:
    if as_json:
        # Plain print: rich's print_json would re-parse and could reformat numbers.
        sys.stdout.write(render.to_json(value) + "\n")
    else:
        out.print(table())


def main() -> None:
    app()
