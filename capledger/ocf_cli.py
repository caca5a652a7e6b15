"""``capledger export ocf OUT`` and ``capledger import ocf IN``: Open Cap Format packages.

Same conventions as ``capledger.cli`` (``--ledger``/CAPLEDGER_LEDGER, ``--issuer``,
``--as-of``, ``--json``; exit 0 ok, 1 rejected with nothing stored or written, 2 usage).
Helpers come from ``capledger.cli`` inside the commands: that module imports this one.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ledger.errors import Rejected, Violation

if TYPE_CHECKING:
    from ledger.ocf import Mapping

export_app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
import_app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

LedgerOpt = Annotated[str, typer.Option(
    "--ledger", envvar="CAPLEDGER_LEDGER",
    help="Where the ledger is: an SQLite file path, or a postgresql:// URL. [env: CAPLEDGER_LEDGER]",
)]
IssuerOpt = Annotated[str | None, typer.Option(
    "--issuer", envvar="CAPLEDGER_ISSUER", help="Issuer id. [env: CAPLEDGER_ISSUER]",
)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


@export_app.command("ocf")
def export_ocf(
    out: Annotated[Path, typer.Argument(help="A folder to write, or a file name ending in .ocf.zip.")],
    ledger_location: LedgerOpt = "capledger.sqlite",
    issuer: IssuerOpt = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Export entries effective on or before this date (default: today, UTC).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the ledger as an OCF 1.2 package, validated against the OCF schemas first."""
    from capledger.cli import opened, parse_as_of, pick_issuer, user_errors
    from capledger.cli import out as console

    day = parse_as_of(as_of)
    with user_errors(), opened(ledger_location) as ledger:
        name = pick_issuer(ledger, issuer)
        from projections.ocf_export import ocf_package  # OCF's schemas load only when used

        texts = ocf_package(ledger.entries(name), day)
    from ledger.ocf.package import write_package

    write_package(out, texts)
    if as_json:
        _print_json({"issuer": name, "as_of": day, "written": str(out), "files": sorted(texts)})
    else:
        console.print(f"Wrote OCF package for {name} as of {day} to {out} ({', '.join(sorted(texts))})",
                      markup=False, highlight=False)


@import_app.command("ocf")
def import_ocf(
    source: Annotated[Path, typer.Argument(help="An OCF folder, .ocf.zip or manifest file.")],
    ledger_location: LedgerOpt = "capledger.sqlite",
    issuer: Annotated[str | None, typer.Option(
        "--issuer", help="Issuer id to record under (default: a slug of the OCF issuer's legal name).",
    )] = None,
    skip_unsupported: Annotated[bool, typer.Option(
        "--skip-unsupported", help="Import what capledger can hold and report what it skipped "
                                   "(options, vesting, convertibles...), instead of stopping.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Record an OCF package's stock and warrant transactions as cited entries, all or nothing."""
    from capledger.cli import opened, user_errors
    from capledger.cli import out as console

    with user_errors():
        from ledger.ocf import map_package, read_package  # OCF's schemas load only when used

        mapping = map_package(read_package(source), issuer)
        problems = list(mapping.problems)
        if not skip_unsupported:
            problems += [Violation(note.object, "ocf-unsupported",
                                   f"{note.reason} (pass --skip-unsupported to import the rest)")
                         for note in mapping.unsupported]
        if problems:
            raise Rejected(problems, f"OCF package {source}")
        with opened(ledger_location, create=True) as ledger:
            done = ledger.record(mapping.issuer, mapping.entries)
    report = _report(mapping, [r.entry.id for r in done.stored], done.already_recorded)
    if as_json:
        _print_json(report)
        return
    console.print(f"Imported {len(done.stored)} entries for {mapping.issuer} from {source} "
                  f"({done.already_recorded} already recorded)", markup=False, highlight=False)
    for title, key in (("Skipped (not modelled yet)", "skipped"), ("Not recorded (no bearing on holdings)",
                       "ignored"), ("Folded into another entry", "folded"), ("Warnings", "warnings")):
        if report[key]:
            console.print(f"{title}:", markup=False, highlight=False)
            for line in report[key]:
                console.print(f"  - {line}", markup=False, highlight=False, soft_wrap=True)


def _report(mapping: Mapping, stored: list[str], repeats: int) -> dict[str, Any]:
    return {
        "issuer": mapping.issuer, "stored": stored, "already_recorded": repeats,
        "skipped": [str(n) for n in mapping.unsupported], "ignored": [str(n) for n in mapping.ignored],
        "folded": [str(n) for n in mapping.folded], "warnings": mapping.warnings,
    }


def _print_json(value: Any) -> None:
    from capledger import render

    sys.stdout.write(render.to_json(value) + "\n")
