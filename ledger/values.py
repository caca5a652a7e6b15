"""Value types: money, share counts, identifiers and citations.

Everything here is exact. Money is a Decimal amount with an ISO currency code and keeps
the scale it was written with ("0.2325" stays "0.2325", "450000.00" stays "450000.00").
Share counts are Python ints. Floats are refused wherever they could sneak in.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

_GROUPED = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")
_MONEY_TEXT = re.compile(r"^\s*(?:(?P<cur1>[A-Z]{3})\s+|(?P<dollar>\$))?(?P<amount>-?[\d,]+(?:\.\d+)?)"
                         r"(?:\s+(?P<cur2>[A-Z]{3}))?\s*$")


def _ungroup(text: str) -> str:
    """Accept "1,935,483" but only with correct thousands grouping ("19,35" is refused)."""
    if "," in text:
        if not _GROUPED.match(text):
            raise ValueError(f"{text!r} is not a number with correct thousands separators")
        return text.replace(",", "")
    return text


def _whole_shares(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a share count must be a whole number, not true/false")
    if isinstance(value, float):
        raise ValueError(f"a share count must be a whole number; got the float {value!r}")
    if isinstance(value, Decimal):
        if value != value.to_integral_value():
            raise ValueError(f"a share count must be a whole number; got {value}")
        return int(value)
    if isinstance(value, str):
        text = _ungroup(value.strip())
        if not re.fullmatch(r"-?\d+", text):
            raise ValueError(f"a share count must be a whole number; got {value!r}")
        return int(text)
    return value


def _exact_decimal(value: Any) -> Any:
    if isinstance(value, float):
        # A float has already lost the figure the document stated; refuse it rather than guess.
        raise ValueError(f"{value!r} arrived as a binary float; write it as text, e.g. '{value}'")
    if isinstance(value, str):
        try:
            return Decimal(_ungroup(value.strip()))
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a decimal number") from None
    return value


Shares = Annotated[int, BeforeValidator(_whole_shares), Field(gt=0, strict=True)]
"""A positive, exact number of shares."""

ExactDecimal = Annotated[Decimal, BeforeValidator(_exact_decimal), Field(allow_inf_nan=False)]

Identifier = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"^\S+$")
]
"""A stable, user-chosen id without spaces (entry ids, holder ids, lot and warrant ids)."""

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Money(BaseModel):
    """An exact amount in one currency. Written in a journal as "93000.00 USD", "$93,000" or
    {amount: "93000.00", currency: USD}."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    amount: Annotated[ExactDecimal, Field(ge=0)]  # prices, payments and refunds are never negative
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            raise ValueError(f"money needs a currency: write '{value} USD'")
        if not isinstance(value, str):
            return value
        match = _MONEY_TEXT.match(value)
        if not match:
            raise ValueError(f"{value!r} is not money; write e.g. '93000.00 USD' or '$93,000'")
        currency = match["cur1"] or match["cur2"] or ("USD" if match["dollar"] else None)
        if currency is None or (match["cur1"] and match["cur2"]):
            raise ValueError(f"{value!r} needs exactly one currency, e.g. '93000.00 USD'")
        return {"amount": _ungroup(match["amount"]), "currency": currency}

    def __str__(self) -> str:
        return f"{self.amount:,} {self.currency}"

    def times(self, quantity: int) -> Money:
        return Money(amount=self.amount * quantity, currency=self.currency)


class Citation(BaseModel):
    """Where an entry comes from: the document, its date and the section relied on."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    document: Text
    dated: date
    section: Text

    def __str__(self) -> str:
        return f"{self.document} ({self.dated.isoformat()}), {self.section}"


def money_totals(amounts: list[Money]) -> dict[str, Decimal]:
    """Sum amounts per currency, exactly; never adds across currencies."""
    totals: dict[str, Decimal] = {}
    for money in amounts:
        totals[money.currency] = totals.get(money.currency, Decimal(0)) + money.amount
    return totals


def format_shares(quantity: int) -> str:
    return f"{quantity:,}"
