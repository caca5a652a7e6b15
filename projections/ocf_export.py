"""Entries -> an Open Cap Format package, as of a date (a pure function of the records).

The timeline as of the date (as corrected by now) is replayed through the booking fold, and
each entry is written as the OCF transactions that say the same, with OCF's per-security
bookkeeping: a partial cancellation, repurchase, transfer or conversion ends the security
and issues a balance security; an amendment or reissue of a warrant is a cancellation of the
old security and an issuance of a new one, lineage in ``comments``. What OCF cannot say is
written as ``capledger:key=value`` comment lines (see docs/ocf.md). The package is
validated against the shipped OCF schemas before it is returned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ledger.book import Book
from ledger.entries import (
    AnyEntry,
    IssuerCreated,
    PurchaseRescinded,
    RescindedAbInitio,
    ShareClassCreated,
    SharesCancelled,
    SharesConverted,
    SharesPurchased,
    SharesRepurchased,
    SharesTransferred,
    StakeholderAdded,
    StockSplit,
    WarrantAmended,
    WarrantCancelled,
    WarrantExercised,
    WarrantIssued,
    WarrantReissued,
)
from ledger.errors import Rejected, Violation
from ledger.ocf.package import FILE_LISTS, md5, to_text
from ledger.ocf.schema import check_file, check_object, schemas
from ledger.ocf.values import OcfValueError, annotation, monetary, numeric
from ledger.records import RecordedEntry
from ledger.timeline import timeline
from ledger.values import Money

PRICE_PLACES = Decimal("0.0000000001")
INSTITUTION = re.compile(r"\b(inc|llc|ltd|limited|lp|l\.p\.|partnership|fund|corp|corporation|plc|gmbh|"
                         r"ag|sa|bv|trust|capital|holdings|partners|company|co)\b\.?", re.IGNORECASE)
FILES = {
    "stakeholders_files": "Stakeholders.ocf.json",
    "stock_classes_files": "StockClasses.ocf.json",
    "transactions_files": "Transactions.ocf.json",
}


def _day(value: date) -> str:
    return value.isoformat()


@dataclass
class _Export:
    book: Book = field(default_factory=Book)
    issuer: dict[str, Any] = field(default_factory=dict)
    stakeholders: list[dict[str, Any]] = field(default_factory=list)
    classes: list[dict[str, Any]] = field(default_factory=list)
    transactions: list[dict[str, Any]] = field(default_factory=list)
    current: dict[str, str] = field(default_factory=dict)  # our lot/warrant -> its OCF security now
    prices: dict[str, Money] = field(default_factory=dict)  # our lot -> the share price written

    def comments(self, e: AnyEntry, *extra: str) -> list[str]:
        lines = [f"capledger entry {e.id} ({e.type}), citing {e.citation}"]
        if e.memo:
            lines.append(e.memo)
        return [*lines, *extra]

    def tx(self, object_type: str, ident: str, day: date, e: AnyEntry, *extra: str,
           **fields: Any) -> dict[str, Any]:
        obj = {"id": ident, "object_type": object_type, "date": _day(day),
               "comments": self.comments(e, *extra), **{k: v for k, v in fields.items() if v is not None}}
        self.transactions.append(obj)
        return obj

    def stock_issuance(self, ident: str, day: date, e: AnyEntry, security: str, holder: str,
                       share_class: str, quantity: int, price: Money, *extra: str,
                       cost: Money | None = None) -> None:
        self.tx("TX_STOCK_ISSUANCE", ident, day, e, *extra, security_id=security, custom_id=security,
                stakeholder_id=holder, stock_class_id=share_class, share_price=monetary(price),
                quantity=numeric(quantity), security_law_exemptions=[], stock_legend_ids=[],
                cost_basis=monetary(cost) if cost else None)

    def balance(self, e: AnyEntry, lot: str) -> str | None:
        """After a partial action on ``lot``: a balance security for what remains (or None)."""
        state = self.book.lots[lot]
        if state.remaining == 0:
            return None
        security = f"{lot}.{e.id}"
        self.stock_issuance(f"{e.id}.balance", e.effective, e, security, state.holder, state.share_class,
                            state.remaining, self.prices[lot], f"balance of {self.current[lot]} after {e.id}")
        return security

    def warrant_issuance(self, ident: str, day: date, e: AnyEntry, security: str, warrant: str,
                         *extra: str, paid: Money | None = None) -> None:
        w = self.book.warrants[warrant]
        right = {"type": "WARRANT_CONVERSION_RIGHT",
                 "conversion_mechanism": {"type": "FIXED_AMOUNT_CONVERSION",
                                          "converts_to_quantity": numeric(w.shares)},
                 "converts_to_stock_class_id": w.share_class}
        trigger: dict[str, Any] = {"trigger_id": f"{security}.exercise", "conversion_right": right}
        vestings = None
        if w.expires is not None:
            trigger |= {"type": "ELECTIVE_IN_RANGE", "start_date": _day(w.exercisable_from),
                        "end_date": _day(w.expires)}
        else:
            trigger |= {"type": "ELECTIVE_AT_WILL"}
            if w.exercisable_from != day:
                vestings = [{"date": _day(w.exercisable_from), "amount": numeric(w.shares)}]
        self.tx("TX_WARRANT_ISSUANCE", ident, day, e, *extra, security_id=security, custom_id=security,
                stakeholder_id=w.holder, security_law_exemptions=[], quantity=numeric(w.shares),
                exercise_price=monetary(w.exercise_price),
                purchase_price=monetary(paid or Money(amount=Decimal(0), currency=w.exercise_price.currency)),
                exercise_triggers=[trigger], vestings=vestings,
                warrant_expiration_date=_day(w.expires) if w.expires else None)
        self.current[warrant] = security

    # --- one entry ----------------------------------------------------------------------

    def entry(self, e: AnyEntry) -> None:
        shares_before = {w: s.shares for w, s in self.book.warrants.items()}
        self.book.apply(e)
        handler = getattr(self, "on_" + e.type, None)
        if handler is not None:
            handler(e, shares_before)

    def on_IssuerCreated(self, e: IssuerCreated, _: dict[str, int]) -> None:
        code = e.jurisdiction if e.jurisdiction and re.fullmatch(r"[A-Z]{2}", e.jurisdiction) else None
        self.issuer = {"id": e.issuer, "object_type": "ISSUER", "legal_name": e.name,
                       "formation_date": _day(e.effective), "country_of_formation": code or "ZZ",
                       "comments": self.comments(e)}
        if code is None:
            self.issuer["comments"].append("country_of_formation ZZ: the ledger states no ISO country"
                                           + (f" (jurisdiction: {e.jurisdiction})" if e.jurisdiction else ""))
            if e.jurisdiction:
                self.issuer["country_subdivision_name_of_formation"] = e.jurisdiction

    def on_StakeholderAdded(self, e: StakeholderAdded, _: dict[str, int]) -> None:
        kind = "INSTITUTION" if INSTITUTION.search(e.name) else "INDIVIDUAL"
        self.stakeholders.append({"id": e.holder, "object_type": "STAKEHOLDER",
                                  "name": {"legal_name": e.name}, "stakeholder_type": kind,
                                  "comments": self.comments(e, "stakeholder_type inferred from the name")})

    def on_ShareClassCreated(self, e: ShareClassCreated, _: dict[str, int]) -> None:
        kind = "PREFERRED" if "preferred" in e.name.lower() else "COMMON"
        obj: dict[str, Any] = {
            "id": e.share_class, "object_type": "STOCK_CLASS", "name": e.name, "class_type": kind,
            "default_id_prefix": e.share_class, "initial_shares_authorized": numeric(e.authorized),
            "votes_per_share": "1", "seniority": "1",
            "comments": self.comments(e, "class_type inferred from the name; votes_per_share and seniority "
                                         "are not recorded by capledger (written as 1)")}
        if e.par_value:
            obj["par_value"] = monetary(e.par_value)
        self.classes.append(obj)

    def on_SharesPurchased(self, e: SharesPurchased, _: dict[str, int]) -> None:
        price = e.price_per_share
        extra = []
        if price is None:
            exact = e.consideration.amount / e.quantity
            price = Money(amount=exact.quantize(PRICE_PLACES), currency=e.consideration.currency)
            extra.append("share_price derived from the consideration" +
                         ("" if price.amount == exact else ", rounded to 10 places"))
        self.prices[e.lot] = price
        self.current[e.lot] = e.lot
        self.stock_issuance(e.id, e.effective, e, e.lot, e.holder, e.share_class, e.quantity, price, *extra,
                            cost=e.consideration)

    def _reduce(self, object_type: str, e: AnyEntry, lot: str, quantity: int, *extra: str,
                **fields: Any) -> None:
        security = self.current[lot]
        balance = self.balance(e, lot)
        self.tx(object_type, e.id, e.effective, e, *extra, security_id=security, quantity=numeric(quantity),
                balance_security_id=balance, **fields)
        self.current[lot] = balance or security
        # The balance issuance was written first; OCF readers expect the action first.
        if balance:
            self.transactions.append(self.transactions.pop(-2))

    def on_PurchaseRescinded(self, e: PurchaseRescinded, _: dict[str, int]) -> None:
        self._reduce("TX_STOCK_CANCELLATION", e, e.lot, e.quantity,
                     annotation("refund_per_share", e.refund_per_share),
                     annotation("refund_total", e.refund_total),
                     reason_text=f"rescission of part or all of the purchase, refund {e.refund_total}")

    def on_SharesCancelled(self, e: SharesCancelled, _: dict[str, int]) -> None:
        self._reduce("TX_STOCK_CANCELLATION", e, e.lot, e.quantity, reason_text=e.memo or "shares cancelled")

    def on_SharesRepurchased(self, e: SharesRepurchased, _: dict[str, int]) -> None:
        self._reduce("TX_STOCK_REPURCHASE", e, e.lot, e.quantity, price=monetary(e.price_per_share),
                     consideration_text=f"{e.total}")

    def on_SharesTransferred(self, e: SharesTransferred, _: dict[str, int]) -> None:
        source = self.book.lots[e.lot]
        price = e.price_per_share or self.prices[e.lot]
        self.prices[e.new_lot] = price
        security = self.current[e.lot]
        self.tx("TX_STOCK_TRANSFER", e.id, e.effective, e, security_id=security, quantity=numeric(e.quantity),
                resulting_security_ids=[e.new_lot],
                balance_security_id=f"{e.lot}.{e.id}" if source.remaining else None,
                consideration_text=f"{e.price_per_share} per share" if e.price_per_share else None)
        self.stock_issuance(f"{e.id}.result", e.effective, e, e.new_lot, e.to_holder, source.share_class,
                            e.quantity, price, f"transferred from {security}")
        self.current[e.new_lot] = e.new_lot
        self.current[e.lot] = self.balance(e, e.lot) or security

    def on_SharesConverted(self, e: SharesConverted, _: dict[str, int]) -> None:
        source = self.book.lots[e.lot]
        new = self.book.lots[e.new_lot]
        security = self.current[e.lot]
        notes = [annotation("ratio", f"{e.ratio.new}/{e.ratio.old}")]
        if e.cash_per_share:
            notes.append(annotation("cash_per_share", e.cash_per_share))
        self.tx("TX_STOCK_CONVERSION", e.id, e.effective, e, *notes, security_id=security,
                quantity_converted=numeric(e.quantity), resulting_security_ids=[e.new_lot],
                balance_security_id=f"{e.lot}.{e.id}" if source.remaining else None)
        self.prices[e.new_lot] = self.prices[e.lot]
        self.stock_issuance(f"{e.id}.result", e.effective, e, e.new_lot, new.holder, e.to_class, new.quantity,
                            self.prices[e.lot], f"converted from {security}; share_price carried over")
        self.current[e.new_lot] = e.new_lot
        self.current[e.lot] = self.balance(e, e.lot) or security

    def on_StockSplit(self, e: StockSplit, _: dict[str, int]) -> None:
        notes = []
        if e.cash_per_share:
            notes.append(annotation("cash_per_share", e.cash_per_share))
        self.tx("TX_STOCK_CLASS_SPLIT", e.id, e.effective, e, *notes, stock_class_id=e.share_class,
                split_ratio={"numerator": numeric(e.ratio.new), "denominator": numeric(e.ratio.old)})
        if e.authorized:
            self.tx("TX_STOCK_CLASS_AUTHORIZED_SHARES_ADJUSTMENT", f"{e.id}.authorized", e.effective, e,
                    stock_class_id=e.share_class, new_shares_authorized=numeric(e.authorized))

    def on_RescindedAbInitio(self, e: RescindedAbInitio, _: dict[str, int]) -> None:
        kind = "TX_WARRANT_RETRACTION" if e.security in self.book.warrants else "TX_STOCK_RETRACTION"
        notes = []
        if e.refund_total:
            refunded_on = e.refunded_on or e.citation.dated
            notes = [annotation("refund_total", e.refund_total), annotation("refunded_on", refunded_on)]
        self.tx(kind, e.id, e.effective, e, *notes, security_id=self.current[e.security],
                reason_text=f"rescinded ab initio ({e.citation.document}, {e.citation.dated})")

    def on_WarrantIssued(self, e: WarrantIssued, _: dict[str, int]) -> None:
        extra = [f"issued in exchange for warrant {e.in_exchange_for}"] if e.in_exchange_for else []
        self.warrant_issuance(e.id, e.effective, e, e.warrant, e.warrant, *extra, paid=e.consideration)

    def _replace(self, e: AnyEntry, old: str, new: str, before: int, why: str) -> None:
        security = self.current[old]
        self.tx("TX_WARRANT_CANCELLATION", f"{e.id}.cancel", e.effective, e, security_id=security,
                quantity=numeric(before), reason_text=why)
        self.warrant_issuance(f"{e.id}.issue", e.effective, e, f"{new}.{e.id}" if new == old else new, new,
                              f"replaces warrant security {security} ({why})")

    def on_WarrantAmended(self, e: WarrantAmended, before: dict[str, int]) -> None:
        self._replace(e, e.warrant, e.warrant, before[e.warrant], f"amendment {e.id} of warrant {e.warrant}")

    def on_WarrantReissued(self, e: WarrantReissued, before: dict[str, int]) -> None:
        self._replace(e, e.warrant, e.new_warrant, before[e.warrant],
                      f"surrendered for reissue as warrant {e.new_warrant}")

    def on_WarrantExercised(self, e: WarrantExercised, _: dict[str, int]) -> None:
        w = self.book.warrants[e.warrant]
        security = self.current[e.warrant]
        self.prices[e.lot] = w.exercise_price
        self.tx("TX_WARRANT_EXERCISE", e.id, e.effective, e, security_id=security,
                trigger_id=f"{security}.exercise", resulting_security_ids=[e.lot],
                consideration_text=str(e.payment or w.exercise_price.times(e.shares)))
        self.stock_issuance(f"{e.id}.result", e.effective, e, e.lot, w.holder, w.share_class, e.shares,
                            w.exercise_price, f"issued on exercise of {security}")
        self.current[e.lot] = e.lot

    def on_WarrantCancelled(self, e: WarrantCancelled, before: dict[str, int]) -> None:
        self.tx("TX_WARRANT_CANCELLATION", e.id, e.effective, e, security_id=self.current[e.warrant],
                quantity=numeric(before[e.warrant]), reason_text=e.memo or "warrant cancelled")


def ocf_package(records: Iterable[RecordedEntry], as_of: date,
                generated_at: datetime | None = None) -> dict[str, str]:
    """The package as file name -> JSON text, manifest included; raises ``Rejected`` (nothing
    to write) when a figure cannot be written as valid OCF."""
    export = _Export()
    problems: list[Violation] = []
    for record in timeline(records, as_of):
        try:
            export.entry(record.entry)
        except OcfValueError as err:
            problems.append(Violation(record.entry.id, "ocf-unwritable", str(err)))
    documents = {
        FILES["stakeholders_files"]: {"file_type": "OCF_STAKEHOLDERS_FILE", "items": export.stakeholders},
        FILES["stock_classes_files"]: {"file_type": "OCF_STOCK_CLASSES_FILE", "items": export.classes},
        FILES["transactions_files"]: {"file_type": "OCF_TRANSACTIONS_FILE", "items": export.transactions},
    }
    texts = {name: to_text(doc) for name, doc in documents.items()}
    moment = (generated_at or datetime.now(UTC)).astimezone(UTC)
    manifest: dict[str, Any] = {
        "ocf_version": schemas().ocf_version, "file_type": "OCF_MANIFEST_FILE", "issuer": export.issuer,
        "as_of": _day(as_of), "generated_at": moment.isoformat().replace("+00:00", "Z"),
        "comments": ["Exported by capledger; see docs/ocf.md for the mapping."],
    }
    for listing in FILE_LISTS:
        name = FILES.get(listing)
        manifest[listing] = [{"filepath": f"./{name}", "md5": md5(texts[name])}] if name else []
    problems.extend(_check(manifest, documents))
    if problems:
        raise Rejected(problems, "OCF export")
    return {"Manifest.ocf.json": to_text(manifest), **texts}


def _check(manifest: dict[str, Any], documents: dict[str, dict[str, Any]]) -> list[Violation]:
    problems = [Violation("Manifest.ocf.json", "ocf-schema", m)
                for m in check_file(manifest, "OCF_MANIFEST_FILE").problems]
    for name, document in documents.items():
        found = check_file(document, document["file_type"])
        problems += [Violation(name, "ocf-schema", m) for m in found.problems]
        for item in document["items"]:
            problems += [Violation(str(item.get("id")), "ocf-schema", f"{item.get('object_type')}: {m}")
                         for m in check_object(item).problems]
    return problems
