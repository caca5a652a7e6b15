"""``capledger explain`` and ``capledger report ledger|html``.

``capledger.cli`` imports this module at its top to register the commands, so this module
imports ``capledger.cli`` only inside the commands; the option declarations below mirror the
ones there (same flags, same environment variables).
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.table import Table
from rich.text import Text

from ledger.errors import LedgerError
from ledger.records import RecordedEntry

if TYPE_CHECKING:
    from projections.explain import Explanation, Figure

report_app = typer.Typer(
    help="Reports: the stockholder ledger (CSV or HTML) and a self-contained HTML report.",
    no_args_is_help=True,
)

LedgerOpt = Annotated[str, typer.Option(
    "--ledger", envvar="CAPLEDGER_LEDGER",
    help="Where the ledger is: an SQLite file path, or a postgresql:// URL. [env: CAPLEDGER_LEDGER]",
)]
IssuerOpt = Annotated[str | None, typer.Option(
    "--issuer", envvar="CAPLEDGER_ISSUER",
    help="Issuer id; may be left out when the ledger holds one issuer. [env: CAPLEDGER_ISSUER]",
)]
AsOfOpt = Annotated[str | None, typer.Option(
    "--as-of", help="Effective date YYYY-MM-DD (default: today, UTC).")]
KnownAtOpt = Annotated[str | None, typer.Option(
    "--known-at", help="Recorded time: only entries recorded by then count. ISO date-time "
                       "(naive means UTC) or a date (meaning the end of that day, UTC).")]
DEFAULT_LEDGER = "capledger.sqlite"
Format = Literal["csv", "html"]


class OutputFailed(LedgerError):
    pass


def _records(location: str, issuer: str | None) -> list[RecordedEntry]:
    from capledger.cli import query

    records: list[RecordedEntry] = query(location, issuer, lambda r: r)
    return records


def _dates(as_of: str | None, known_at: str | None) -> tuple[date, datetime | None]:
    from capledger.cli import parse_as_of, parse_known_at

    return parse_as_of(as_of), parse_known_at(known_at)


def _write(text: str, output: Path | None) -> None:
    """To the file (a message names it) or to standard output."""
    from capledger.cli import out, user_errors

    if output is None:
        sys.stdout.write(text)
        return
    with user_errors():
        try:
            with output.open("w", encoding="utf-8", newline="") as handle:
                handle.write(text)
        except OSError as problem:
            raise OutputFailed(f"cannot write {str(output)!r}: {problem.strerror or problem}") from None
    out.print(f"Wrote {output} ({len(text.encode()):,} bytes)", markup=False, highlight=False)


def _format(fmt: str | None, output: Path | None) -> Format:
    from capledger.cli import fail_usage

    chosen = fmt or ("html" if output is not None and output.suffix.lower() in (".html", ".htm") else "csv")
    if chosen not in ("csv", "html"):
        raise fail_usage(f"--format {fmt!r} is not csv or html")
    return "html" if chosen == "html" else "csv"


@report_app.command("ledger")
def ledger_report(
    ledger_location: LedgerOpt = DEFAULT_LEDGER, issuer: IssuerOpt = None,
    as_of: AsOfOpt = None, known_at: KnownAtOpt = None,
    fmt: Annotated[str | None, typer.Option(
        "--format", help="csv or html (default: html for an --output ending .html, else csv).")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write to this file instead of standard output.")] = None,
) -> None:
    """The stockholder ledger as of a date: per lot, its issue and every later change (CSV or HTML)."""
    kind = _format(fmt, output)
    day, known = _dates(as_of, known_at)
    from capledger import report
    from projections.register import register

    reg = register(_records(ledger_location, issuer), day, known)
    _write(report.register_html(reg) if kind == "html" else report.register_csv(reg), output)


@report_app.command("html")
def html_report(
    output: Annotated[Path, typer.Argument(help="The HTML file to write (one self-contained file).")],
    ledger_location: LedgerOpt = DEFAULT_LEDGER, issuer: IssuerOpt = None,
    as_of: AsOfOpt = None, known_at: KnownAtOpt = None,
) -> None:
    """One self-contained HTML file: cap table, warrants, stockholder ledger and charts."""
    day, known = _dates(as_of, known_at)
    from capledger import report

    _write(report.report_html(report.gather(_records(ledger_location, issuer), day, known)), output)


def explain(
    holder: Annotated[str, typer.Argument(help="Holder id (or the holder's exact name).")],
    ledger_location: LedgerOpt = DEFAULT_LEDGER, issuer: IssuerOpt = None,
    as_of: AsOfOpt = None, known_at: KnownAtOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Each figure of one holder with the entries that produce it and their citations."""
    from capledger.cli import query, show

    day, known = _dates(as_of, known_at)
    from projections.explain import explain as explain_holder

    result: Explanation = query(ledger_location, issuer, lambda r: explain_holder(r, holder, day, known))
    show(result, as_json, lambda: explanation_table(result))


def value_text(figure: Figure) -> str:
    value = figure.value
    if isinstance(value, dict):
        return ", ".join(f"{amount:,} {currency}" for currency, amount in value.items()) or "0"
    if isinstance(value, Decimal):
        return f"{value}%"
    return f"{value:,}"


def explanation_table(result: Explanation) -> Table:
    known = f", as known at {result.known_at.isoformat()}" if result.known_at else ""
    table = Table(title=f"{result.name} ({result.holder}) as of {result.as_of}{known}: "
                        "each figure and the entries behind it")
    table.expand = True
    table.add_column("Figure", ratio=2, overflow="fold")
    table.add_column("Value", justify="right", no_wrap=True)
    table.add_column("Basis / effect", ratio=4, overflow="fold")
    table.add_column("Effective", no_wrap=True)
    longest = max((len(c.entry) for f in result.figures for c in f.causes), default=5)
    table.add_column("Entry", min_width=min(longest, 40), overflow="fold")  # ids read whole
    table.add_column("Citation", ratio=3, overflow="fold")
    for figure in result.figures:
        table.add_row(Text(f"{figure.figure}: {figure.subject}", style="bold"),
                      Text(value_text(figure), style="bold"), Text(figure.basis), "", "", "")
        for c in figure.causes:
            table.add_row("", "", Text(f"  {c.effect}"), c.effective.isoformat(), Text(c.entry),
                          Text(str(c.citation)))
        table.add_section()
    return table
