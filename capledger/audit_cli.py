"""``capledger audit verify``: recompute each issuer's hash chain from the raw stored rows."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ledger.integrity import ChainReport

audit_app = typer.Typer(help="Audit the stored history: verify the hash chain.", no_args_is_help=True)


@audit_app.command("verify")
def verify_command(
    ledger_location: Annotated[str, typer.Option("--ledger", envvar="CAPLEDGER_LEDGER",
                                                 help="The ledger (SQLite path or postgresql:// URL).")]
    = "capledger.sqlite",
    issuer: Annotated[str | None, typer.Option("--issuer", envvar="CAPLEDGER_ISSUER",
                                               help="One issuer (default: every issuer).")] = None,
    expect_head: Annotated[str | None, typer.Option(
        "--expect-head", help="A head hash written down or published earlier: it must appear in "
                              "the chain (needs --issuer when the ledger holds several).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Recompute the chain; print the verified head hash per issuer, or the first broken link.
    Exit 0 when every chain verifies, 1 otherwise."""
    from capledger.cli import fail_usage, opened, out, user_errors
    from capledger.render import to_json

    with user_errors(), opened(ledger_location) as ledger:
        issuers = [issuer] if issuer else ledger.issuers()
        if expect_head and len(issuers) != 1:
            raise fail_usage("--expect-head needs --issuer when the ledger holds several issuers")
        # One streamed pass per issuer (LedgerStore.audit): the report ledger.integrity.verify
        # gives for the same rows, with one page of rows in memory at a time.
        reports = [ledger.store.audit(i, expect_head) for i in issuers]
    if as_json:
        sys.stdout.write(to_json(reports) + "\n")
    else:
        for report in reports:
            out.print(describe(report), markup=False, highlight=False, soft_wrap=True)
    if not all(r.ok for r in reports):
        raise typer.Exit(1)


def describe(report: ChainReport) -> str:
    if report.broken is None:
        since = ""
        if report.expected_head_found_at is not None:
            since = (f"; the expected head is event {report.expected_head_found_at}, "
                     f"{report.events - report.expected_head_found_at} events recorded since")
        return f"{report.issuer}: verified {report.events} events; head {report.head}{since}"
    b = report.broken
    where = f"event {b.sequence}" + (f" (position {b.position})" if b.position else "")
    entry = f", entry {b.entry!r}" if b.entry else ""
    return (f"{report.issuer}: BROKEN at {where}{entry}: {b.problem}. "
            f"The first {report.events} events verify (head {report.head}).")
