"""Journal input keeps every figure exact and reports every problem (issue 2)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.entries import PurchaseRescinded, SharesPurchased
from ledger.errors import Rejected
from ledger.journal import parse_journal

HEAD = """
issuer: acme
entries:
  - id: buy
    type: SharesPurchased
    effective: 2002-06-07
    lot: L1
    holder: h
    share_class: common
    citation: {document: SPA, dated: 2002-06-07, section: "1"}
"""


def purchase(quantity: str, consideration: str, price: str = "0.2325 USD") -> SharesPurchased:
    text = HEAD + f"    quantity: {quantity}\n    consideration: {consideration}\n" \
                  f"    price_per_share: {price}\n"
    (entry,) = parse_journal(text).entries
    assert isinstance(entry, SharesPurchased)
    return entry


def test_unquoted_decimal_is_exact_not_float() -> None:
    text = HEAD + "    quantity: 10\n    consideration: {amount: 0.2325, currency: USD}\n"
    (entry,) = parse_journal(text).entries
    assert isinstance(entry, SharesPurchased)
    assert entry.consideration.amount == Decimal("0.2325")
    assert str(entry.consideration.amount) == "0.2325"  # the float 0.2325 would not print so


@pytest.mark.parametrize(("written", "amount", "currency"), [
    ("450000.00 USD", "450000.00", "USD"),
    ("USD 450000", "450000", "USD"),
    ("$450,000.00", "450000.00", "USD"),
    ("93000.0000 EUR", "93000.0000", "EUR"),
])
def test_money_spellings_keep_their_scale(written: str, amount: str, currency: str) -> None:
    money = purchase("10", f'"{written}"').consideration
    assert (str(money.amount), money.currency) == (amount, currency)


@pytest.mark.parametrize("written", ["1935483", "1,935,483", '"1,935,483"', "1_935_483"])
def test_share_counts(written: str) -> None:
    assert purchase(written, "1 USD").quantity == 1_935_483


@pytest.mark.parametrize(("written", "problem"), [
    ("19,35,483", "thousands separators"),
    ("1.5", "whole number"),
    ("0", "greater than 0"),
    ("-3", "greater than 0"),
    ("true", "whole number"),
])
def test_bad_share_counts(written: str, problem: str) -> None:
    with pytest.raises(Rejected) as caught:
        purchase(written, "1 USD")
    assert problem in str(caught.value) and "'buy'" in str(caught.value)


@pytest.mark.parametrize(("written", "problem"), [
    ("450000", "money needs a currency"),
    ('"450000 US"', "is not money"),
    ('"USD 450000 EUR"', "exactly one currency"),
    (".nan", "finite"),
])
def test_bad_money(written: str, problem: str) -> None:
    with pytest.raises(Rejected) as caught:
        purchase("10", written)
    assert problem in str(caught.value)


def test_every_problem_is_listed() -> None:
    text = HEAD + "    quantity: -1\n    consideration: 5\n    colour: blue\n" + """
  - id: second
    type: NoSuchThing
    effective: 2002-06-07
  - type: PurchaseRescinded
    effective: 2002-13-01
"""
    with pytest.raises(Rejected) as caught:
        parse_journal(text, "j.yaml")
    rules = [(v.entry, v.rule) for v in caught.value.violations]
    assert ("buy", "invalid-field") in rules and ("second", "unknown-type") in rules
    assert ("#3", "invalid-field") in rules
    message = str(caught.value)
    for fragment in ("quantity", "consideration", "colour", "Extra inputs", "NoSuchThing", "effective"):
        assert fragment in message


def test_refund_fields_parse() -> None:
    text = """
issuer: acme
entries:
  - id: r
    type: PurchaseRescinded
    effective: 2002-07-25
    lot: L1
    quantity: 400,000
    refund_per_share: 0.2325 USD
    refund_total: $93,000
    citation: {document: MRA, dated: 2002-07-25, section: "3"}
"""
    (entry,) = parse_journal(text).entries
    assert isinstance(entry, PurchaseRescinded)
    assert entry.refund_per_share.times(entry.quantity).amount == entry.refund_total.amount


@pytest.mark.parametrize("text", ["entries: []", "issuer: x", "- just a list", "issuer: x\nentries: 3"])
def test_journal_shape(text: str) -> None:
    with pytest.raises(Rejected) as caught:
        parse_journal(text)
    assert caught.value.violations[0].rule == "journal-shape"


def test_grouped_number_inside_a_flow_mapping_gets_a_hint() -> None:
    text = """
issuer: acme
entries:
  - {id: p, type: StakeholderAdded, effective: 2002-06-07, holder: h, name: H, n: 1,000,013,
     citation: {document: SPA, dated: 2002-06-07, section: "1"}}
"""
    with pytest.raises(Rejected, match="write grouped numbers in quotes"):
        parse_journal(text)


@pytest.mark.parametrize(("written", "expected"), [("0400000", 400_000), ("1_000", 1_000)])
def test_integers_are_base_ten(written: str, expected: int) -> None:
    assert purchase(written, "1 USD").quantity == expected


def test_sexagesimal_is_not_a_number() -> None:
    with pytest.raises(Rejected, match="whole number"):
        purchase("1:30", "1 USD")


def test_negative_money_is_refused() -> None:
    with pytest.raises(Rejected, match="greater than or equal to 0"):
        purchase("10", '"-93000 USD"')
