"""Ledger entries: one frozen model per kind of securities transaction.

An entry states what a document says happened and when it takes legal effect. It never
says when it was recorded: the store adds that (see ``ledger.records``). Entries are
immutable; a later document is a new entry, never an edit.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from ledger.values import Citation, Identifier, Money, Shares, Text


class Entry(BaseModel):
    """Fields every entry has."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    id: Identifier
    effective: date
    citation: Citation
    memo: str | None = None

    def content(self) -> dict[str, Any]:
        """The canonical JSON form: what is stored and compared for idempotency."""
        return self.model_dump(mode="json", exclude_none=True)


# --- the issuer and its parties -------------------------------------------------------------


class IssuerCreated(Entry):
    """Opens an issuer's ledger. Must be the first entry of its stream."""

    type: Literal["IssuerCreated"] = "IssuerCreated"
    issuer: Identifier
    name: Text
    jurisdiction: str | None = None


class StakeholderAdded(Entry):
    type: Literal["StakeholderAdded"] = "StakeholderAdded"
    holder: Identifier
    name: Text


class ShareClassCreated(Entry):
    type: Literal["ShareClassCreated"] = "ShareClassCreated"
    share_class: Identifier
    name: Text
    authorized: Shares
    par_value: Money | None = None


# --- shares ------------------------------------------------------------------------------


class SharesPurchased(Entry):
    """A holder buys shares; the purchase becomes a lot named ``lot``.

    ``consideration`` is the total paid as the document states it. It is not checked against
    quantity x price: a unit purchase (shares plus a warrant) has one stated total.
    """

    type: Literal["SharesPurchased"] = "SharesPurchased"
    lot: Identifier
    holder: Identifier
    share_class: Identifier
    quantity: Shares
    price_per_share: Money | None = None
    consideration: Money


class PurchaseRescinded(Entry):
    """The parties undo part or all of a purchase: shares go back, the refund goes out."""

    type: Literal["PurchaseRescinded"] = "PurchaseRescinded"
    lot: Identifier
    quantity: Shares
    refund_per_share: Money
    refund_total: Money


# --- warrants ----------------------------------------------------------------------------


class WarrantIssued(Entry):
    """A right to buy up to ``shares`` shares of ``share_class`` at ``exercise_price``.

    ``exercisable_from`` defaults to the effective date; no ``expires`` means the document
    states no expiry. ``expires`` is the last day on which it may be exercised.
    """

    type: Literal["WarrantIssued"] = "WarrantIssued"
    warrant: Identifier
    holder: Identifier
    share_class: Identifier
    shares: Shares
    exercise_price: Money
    exercisable_from: date | None = None
    expires: date | None = None
    consideration: Money | None = None
    in_exchange_for: Identifier | None = None
    """Lineage only: the warrant whose exercise or surrender this one was issued for (for
    example new warrants for 125% of the shares exercised under an earlier one)."""


class WarrantAmended(Entry):
    """Changes one or more terms, in force from the effective date on."""

    type: Literal["WarrantAmended"] = "WarrantAmended"
    warrant: Identifier
    exercisable_from: date | None = None
    expires: date | None = None
    exercise_price: Money | None = None
    shares: Shares | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> WarrantAmended:
        if all(
            getattr(self, name) is None
            for name in ("exercisable_from", "expires", "exercise_price", "shares")
        ):
            raise ValueError(
                "an amendment must change at least one of exercisable_from, expires, "
                "exercise_price, shares"
            )
        return self


class WarrantReissued(Entry):
    """The holder surrenders ``warrant``; the issuer issues ``new_warrant``. Lineage: new -> old.

    With no terms given, the new warrant carries the terms in force on the effective date
    (amendments included): a plain reissue. Any term given replaces the one in force: an
    exchange (new shares, price or window), still one surrender and one issue.
    """

    type: Literal["WarrantReissued"] = "WarrantReissued"
    warrant: Identifier
    new_warrant: Identifier
    shares: Shares | None = None
    exercise_price: Money | None = None
    exercisable_from: date | None = None
    expires: date | None = None


class WarrantExercised(Entry):
    """Exercise of some or all remaining shares; creates a lot of new shares named ``lot``.

    ``payment`` is the cash paid; when given it must equal shares x the exercise price in force.
    """

    type: Literal["WarrantExercised"] = "WarrantExercised"
    warrant: Identifier
    shares: Shares
    lot: Identifier
    payment: Money | None = None


class WarrantCancelled(Entry):
    type: Literal["WarrantCancelled"] = "WarrantCancelled"
    warrant: Identifier


# --- the rest of the share lifecycle ---------------------------------------------------


class SharesTransferred(Entry):
    """Part or all of a lot moves to another holder as a new lot ``new_lot``. The new lot keeps
    its lineage (``from_lot``) and the holding period of the lot it came from."""

    type: Literal["SharesTransferred"] = "SharesTransferred"
    lot: Identifier
    quantity: Shares
    to_holder: Identifier
    new_lot: Identifier
    price_per_share: Money | None = None


class SharesRepurchased(Entry):
    """The issuer buys shares back from a lot; ``total`` must be quantity x price."""

    type: Literal["SharesRepurchased"] = "SharesRepurchased"
    lot: Identifier
    quantity: Shares
    price_per_share: Money
    total: Money


class SharesCancelled(Entry):
    """Shares of a lot cease to exist without payment (forfeiture, surrender to treasury)."""

    type: Literal["SharesCancelled"] = "SharesCancelled"
    lot: Identifier
    quantity: Shares


NO_FRACTION = Fraction(0)


class Ratio(BaseModel):
    """An exact ratio new:old, e.g. 2 for 1 (forward split) or 1 for 10 (reverse split)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    new: Shares
    old: Shares

    def __str__(self) -> str:
        return f"{self.new}-for-{self.old}"

    def scale(self, shares: int) -> tuple[int, Fraction]:
        """Whole new shares and the fraction left over: 1,000,013 at 1-for-20 gives
        (50,000, 13/20)."""
        whole, left = divmod(shares * self.new, self.old)  # integers: a split scales every lot
        return whole, Fraction(left, self.old) if left else NO_FRACTION


class StockSplit(Entry):
    """Every lot of ``share_class`` is multiplied by ``ratio``; each outstanding warrant on the
    class is adjusted (shares x ratio rounded down, price / ratio). A lot's fractional share
    is not issued: it is paid in cash at ``cash_per_share`` (per new share), which is
    required when any fraction arises. ``authorized`` optionally restates the authorized
    shares of the class after the split."""

    type: Literal["StockSplit"] = "StockSplit"
    share_class: Identifier
    ratio: Ratio
    cash_per_share: Money | None = None
    authorized: Shares | None = None


class SharesConverted(Entry):
    """``quantity`` shares of a lot convert into ``to_class`` at ``ratio`` (new:old), as a new
    lot. A fractional share is paid in cash at ``cash_per_share`` (per new share)."""

    type: Literal["SharesConverted"] = "SharesConverted"
    lot: Identifier
    quantity: Shares
    to_class: Identifier
    ratio: Ratio
    new_lot: Identifier
    cash_per_share: Money | None = None


class RescindedAbInitio(Entry):
    """A purchase lot or a warrant undone from the start. ``effective`` is the security's own
    issue date (that is what "ab initio" means); the document's date is its citation date.
    A refund, if any, is paid on ``refunded_on`` (default: the citation date)."""

    type: Literal["RescindedAbInitio"] = "RescindedAbInitio"
    security: Identifier
    refund_total: Money | None = None
    refunded_on: date | None = None


# --- corrections: the recorded-time axis -------------------------------------------------


_BookTypes = (
    IssuerCreated
    | StakeholderAdded
    | ShareClassCreated
    | SharesPurchased
    | PurchaseRescinded
    | WarrantIssued
    | WarrantAmended
    | WarrantReissued
    | WarrantExercised
    | WarrantCancelled
    | SharesTransferred
    | SharesRepurchased
    | SharesCancelled
    | StockSplit
    | SharesConverted
    | RescindedAbInitio
)
BookEntry = Annotated[_BookTypes, Field(discriminator="type")]
"""Entries that change the securities (booked on the effective-date timeline)."""


class EntryCorrected(Entry):
    """A clerical error fixed: from when this is recorded, ``target`` reads as ``replacement``
    (same id and type). As known before, the original stands. ``effective`` is the date the
    correction is made; the replacement carries its own effective date."""

    type: Literal["EntryCorrected"] = "EntryCorrected"
    target: Identifier
    replacement: BookEntry
    reason: Text
    by: Text

    @model_validator(mode="after")
    def _same_entry(self) -> EntryCorrected:
        if self.replacement.id != self.target:
            raise ValueError(
                f"the replacement must keep the corrected entry's id {self.target!r} "
                f"(got {self.replacement.id!r})"
            )
        return self


class EntryVoided(Entry):
    """An entry recorded by mistake: from when this is recorded, it no longer counts."""

    type: Literal["EntryVoided"] = "EntryVoided"
    target: Identifier
    reason: Text
    by: Text


AnyEntry = Annotated[_BookTypes | EntryCorrected | EntryVoided, Field(discriminator="type")]

# Validators are built on first use (``defer_build``), not at import: a query answered from the
# views never validates an entry, and building them was a fifth of a cold CLI's imports.
ENTRY_ADAPTER: TypeAdapter[AnyEntry] = TypeAdapter(AnyEntry, config=ConfigDict(defer_build=True))
ENTRY_TYPES: tuple[str, ...] = tuple(
    cls.model_fields["type"].default for cls in get_args(get_args(AnyEntry)[0])
)


def describe_changes(old: AnyEntry, new: AnyEntry) -> str:
    """What differs between two versions of an entry, field by field, in stored form."""
    a, b = old.content(), new.content()
    keys = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    return "; ".join(f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in keys)


def parse_entry(data: Any) -> AnyEntry:
    """Validate one entry from plain data (a journal mapping or stored JSON)."""
    return ENTRY_ADAPTER.validate_python(data)
