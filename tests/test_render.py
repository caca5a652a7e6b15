"""JSON output: exact text for Decimals, ISO dates, and the same text whichever encoder wrote it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from capledger import render
from ledger.values import Money


@dataclass
class Row:
    holder: str
    shares: dict[str, int]
    paid: Decimal
    on: date
    at: datetime
    money: Money
    notes: list[str] = field(default_factory=list)


def rows(big: int) -> list[Row]:
    return [Row("h1 é", {"common": big}, Decimal("450000.00"), date(2002, 7, 25),
                datetime(2002, 7, 25, 12, 0, 0, 1234, tzinfo=UTC),
                Money(amount=Decimal("0.2325"), currency="USD"), ["a"]),
            Row("h2", {}, Decimal("0E-2"), date(1999, 1, 1), datetime(2000, 1, 1, tzinfo=UTC),
                Money(amount=Decimal("1"), currency="USD"))]


def test_to_json_writes_exact_text() -> None:
    out = json.loads(render.to_json(rows(1_935_483)))
    assert out[0]["paid"] == "450000.00" and out[1]["paid"] == "0.00"
    assert out[0]["on"] == "2002-07-25" and out[0]["at"] == "2002-07-25T12:00:00.001234+00:00"
    assert out[0]["money"] == {"amount": "0.2325", "currency": "USD"}
    assert out[0]["shares"] == {"common": 1_935_483} and "h1 é" in render.to_json(rows(1))


def test_to_json_is_the_standard_encoders_text_even_beyond_64_bits() -> None:
    for big in (1, 2**63 - 1, 2**64, 10**30):
        standard = json.dumps(render._tree(rows(big)), default=render._plain, indent=2, ensure_ascii=False)
        assert render.to_json(rows(big)) == standard
