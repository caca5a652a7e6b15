"""OCF figures in and out: ``Numeric`` strings, ``Monetary`` objects, ratios and ids.

OCF writes every quantity and price as a decimal string of at most 10 decimal places
(``Numeric``) and money as ``{amount, currency}``. Both are read into exact Decimals and ints;
nothing passes through a float.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from ledger.entries import Ratio
from ledger.values import Money

NUMERIC = re.compile(r"^[+-]?[0-9]+(\.[0-9]{1,10})?$")
ANNOTATION = "capledger:"


class OcfValueError(ValueError):
    """A figure that is valid OCF but that capledger cannot hold (e.g. 10.5 shares)."""


def decimal_of(value: Any, what: str) -> Decimal:
    if isinstance(value, (bool, float)):
        raise OcfValueError(f"{what} {value!r} must be a decimal string")
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        raise OcfValueError(f"{what} {value!r} is not a number") from None


def shares_of(value: Any, what: str) -> int:
    """A positive whole number of shares from a Numeric ("600000" or "600000.00")."""
    number = decimal_of(value, what)
    if number != number.to_integral_value():
        raise OcfValueError(f"{what} {value} is not a whole number of shares; capledger holds whole "
                            "shares only")
    if number <= 0:
        raise OcfValueError(f"{what} {value} must be more than zero")
    return int(number)


def money_of(value: Any, what: str) -> Money:
    if not isinstance(value, dict):
        raise OcfValueError(f"{what} must be {{amount, currency}}, got {value!r}")
    return Money(amount=decimal_of(value.get("amount"), f"{what} amount"),
                 currency=str(value.get("currency")))


def ratio_of(numerator: Any, denominator: Any, what: str) -> Ratio:
    exact = Fraction(decimal_of(numerator, f"{what} numerator")) / Fraction(
        decimal_of(denominator, f"{what} denominator"))
    if exact <= 0:
        raise OcfValueError(f"{what} {numerator}/{denominator} must be positive")
    return Ratio(new=exact.numerator, old=exact.denominator)


def numeric(value: int | Decimal) -> str:
    """A Numeric string: plain digits, no exponent, at most 10 decimal places."""
    text = format(Decimal(value), "f")
    if "." in text:
        whole, places = text.split(".")
        places = places.rstrip("0")
        if len(places) > 10:
            raise OcfValueError(f"{value} has more than the 10 decimal places OCF can write")
        text = f"{whole}.{places}" if places else whole
    return text


def monetary(money: Money) -> dict[str, str]:
    return {"amount": numeric(money.amount), "currency": money.currency}


def identifier(ocf_id: Any) -> str:
    """An OCF id as a capledger id (ids may not contain spaces)."""
    return re.sub(r"\s+", "_", str(ocf_id).strip()) or "_"


def notes_of(obj: dict[str, Any]) -> dict[str, str]:
    """``capledger:key=value`` lines of an object's comments: the figures capledger writes for
    what OCF cannot say (cash in lieu of fractions, exact conversion ratios, refunds)."""
    found = {}
    for comment in obj.get("comments") or []:
        if isinstance(comment, str) and comment.startswith(ANNOTATION) and "=" in comment:
            key, value = comment[len(ANNOTATION):].split("=", 1)
            found[key.strip()] = value.strip()
    return found


def annotation(key: str, value: object) -> str:
    """One ``capledger:key=value`` comment line; money is written "<amount> <currency>"."""
    if isinstance(value, Money):
        value = f"{value.amount} {value.currency}"
    return f"{ANNOTATION}{key}={value}"
