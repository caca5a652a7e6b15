"""The OCF securities seen so far in an import, and the capledger lot or warrant each is.

OCF ends a security at every partial transfer, cancellation or repurchase and issues a
balance security for what is left; capledger's lots shrink in place. So a balance (or
reissued) security is an alias: a new OCF id for the same lot, holding its own quantity.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

Kind = Literal["stock", "warrant"]


@dataclass(frozen=True)
class Security:
    ocf_id: str
    kind: Kind
    ours: str  # the lot or warrant id in capledger
    holder: str
    share_class: str
    quantity: int
    issued: date  # the capledger lot's or warrant's own issue date
    origin: str  # the OCF transaction that created this security


@dataclass
class Securities:
    open: dict[str, Security] = field(default_factory=dict)
    ended: dict[str, str] = field(default_factory=dict)  # ocf id -> the transaction that ended it
    broken: dict[str, str] = field(default_factory=dict)  # ocf id -> the rejected transaction

    def add(self, security: Security) -> None:
        self.open[security.ocf_id] = security

    def end(self, ocf_id: str, by: str) -> None:
        self.open.pop(ocf_id, None)
        self.ended[ocf_id] = by

    def set_quantity(self, ocf_id: str, quantity: int) -> None:
        self.open[ocf_id] = replace(self.open[ocf_id], quantity=quantity)

    def of_class(self, share_class: str) -> list[Security]:
        return [s for s in self.open.values() if s.share_class == share_class]
