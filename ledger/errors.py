"""Errors a user can cause, each naming the entry, the rule and the figures.

Nothing here is a programming error: the CLI prints these without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule. ``entry`` is the entry id (or a journal location when there is none)."""

    entry: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"entry {self.entry!r}: [{self.rule}] {self.message}"


class LedgerError(Exception):
    """Base for every error caused by input rather than by a bug."""


class Rejected(LedgerError):
    """A journal or entry was refused; nothing was stored. Lists every violation found."""

    def __init__(self, violations: list[Violation], subject: str = "journal") -> None:
        self.violations = violations
        self.subject = subject
        lines = "\n".join(f"  - {v}" for v in violations)
        super().__init__(f"{subject} rejected, nothing stored ({len(violations)} problem(s)):\n{lines}")


class UnknownIssuer(LedgerError):
    def __init__(self, issuer: str, known: list[str]) -> None:
        self.issuer = issuer
        listed = ", ".join(known) if known else "none yet"
        super().__init__(f"unknown issuer {issuer!r} (issuers in this ledger: {listed})")


class NoLedger(LedgerError):
    def __init__(self, location: str) -> None:
        super().__init__(f"no ledger at {location!r}: record a journal there first, or point "
                         "--ledger (or CAPLEDGER_LEDGER) at an existing ledger")


class TargetNotEmpty(LedgerError):
    def __init__(self, location: str) -> None:
        super().__init__(f"{location!r} already holds a ledger: copy into an empty one (a copy "
                         "never merges two ledgers)")
