"""OCF -> entries: the issuer, its stakeholders, classes and transactions as capledger entries.

Each entry cites the OCF object it came from ("<object_type> <id>"). Transactions apply by
date; within a date, in package order, except that one acting on a security not yet issued
waits for the transaction that issues it. Stock issuances that are the result or balance of
another transaction are folded into it (a transfer's new lot, a conversion's new lot, a
cancellation's balance). Every problem is collected; ``Mapping.problems`` empty means the
entries may be recorded (the ledger's own rules are checked when they are).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any

from pydantic import ValidationError

from ledger.entries import (
    AnyEntry,
    IssuerCreated,
    PurchaseRescinded,
    Ratio,
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
)
from ledger.errors import Violation
from ledger.ocf.kinds import IGNORED, MAPPED, unsupported_reason
from ledger.ocf.package import OcfObject, OcfPackage
from ledger.ocf.securities import Kind, Securities, Security
from ledger.ocf.values import (
    OcfValueError,
    identifier,
    money_of,
    notes_of,
    ratio_of,
    shares_of,
)
from ledger.values import Citation, Money
from ledger.values import format_shares as n

RESULT_FIELDS = ("resulting_security_ids", "balance_security_id", "resulting_security_id")


@dataclass(frozen=True)
class Note:
    """An OCF object and what became of it."""

    object: str
    reason: str

    def __str__(self) -> str:
        return f"{self.object}: {self.reason}"


@dataclass
class Mapping:
    issuer: str
    entries: list[AnyEntry] = field(default_factory=list)
    unsupported: list[Note] = field(default_factory=list)
    ignored: list[Note] = field(default_factory=list)
    folded: list[Note] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[Violation] = field(default_factory=list)


class Broken(Exception):
    """One OCF transaction cannot be mapped; carries every reason found."""

    def __init__(self, reasons: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(m for _, m in reasons))
        self.reasons = reasons


class Checks:
    def __init__(self) -> None:
        self.reasons: list[tuple[str, str]] = []

    def add(self, rule: str, message: str) -> None:
        self.reasons.append((rule, message))

    def done(self) -> None:
        if self.reasons:
            raise Broken(self.reasons)


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "issuer"


def _date(value: Any, what: str) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise Broken([("ocf-date", f"{what} {value!r} is not a date")]) from None


def _ids(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value if v]
    return [str(value)] if value else []


class Mapper:
    def __init__(self, package: OcfPackage, issuer: str | None) -> None:
        self.package = package
        legal_name = str(package.issuer.get("legal_name") or package.issuer.get("id") or "issuer")
        self.name = legal_name
        self.result = Mapping(issuer or slug(legal_name))
        manifest = package.manifest
        self.dated = _date(manifest.get("as_of") or str(manifest.get("generated_at", ""))[:10],
                           "manifest as_of")
        self.document = f"OCF package {package.manifest_name} ({legal_name})"
        self.securities = Securities()
        self.holders: set[str] = set()
        self.classes: set[str] = set()
        self.issuances: dict[tuple[Kind, str], OcfObject] = {}
        self.produced_by: dict[str, OcfObject] = {}
        self.unsupported_ids: set[str] = set()
        self.done: set[str] = set()

    # --- helpers --------------------------------------------------------------------------

    def cite(self, obj: OcfObject) -> Citation:
        return Citation(document=self.document, dated=self.dated, section=str(obj))

    def add(self, factory: Callable[..., AnyEntry], obj: OcfObject, ident: str, effective: date,
            **fields: Any) -> None:
        try:
            entry = factory(id=identifier(ident), effective=effective, citation=self.cite(obj), **fields)
        except ValidationError as err:
            detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
            message = f"{obj} cannot become a {factory.__name__}: {detail}"
            raise Broken([("ocf-unmappable", message)]) from None
        self.result.entries.append(entry)

    def problem(self, obj: OcfObject | str, rule: str, message: str) -> None:
        ident = obj.id if isinstance(obj, OcfObject) else obj
        self.result.problems.append(Violation(ident, rule, message))

    def source(self, obj: OcfObject, kind: Kind, checks: Checks) -> Security | None:
        sid = str(obj.data.get("security_id"))
        found = self.securities.open.get(sid)
        if found is not None and found.kind == kind:
            return found
        if sid in self.securities.broken:
            checks.add("ocf-depends-on-rejected", f"{obj} acts on security {sid!r}, which does not "
                       f"exist because {self.securities.broken[sid]} was rejected")
        elif sid in self.securities.ended:
            checks.add("ocf-security-ended", f"{obj} acts on security {sid!r}, which "
                       f"{self.securities.ended[sid]} already ended")
        elif sid in self.unsupported_ids:
            checks.add("ocf-security-unsupported", f"{obj} acts on security {sid!r}, whose issuance "
                       "is not imported (unsupported)")
        else:
            checks.add("ocf-unknown-security", f"{obj} acts on {kind} security {sid!r}, which no "
                       f"{kind} issuance in the package creates")
        return None

    def derived(self, obj: OcfObject, sid: str, kind: Kind, checks: Checks) -> OcfObject | None:
        found = self.issuances.get((kind, sid))
        if found is None:
            what = "TX_STOCK_ISSUANCE" if kind == "stock" else "TX_WARRANT_ISSUANCE"
            checks.add("ocf-missing-result", f"{obj} names resulting security {sid!r}, but the package "
                       f"has no {what} for it")
        return found

    def quantity(self, obj: OcfObject, key: str, checks: Checks) -> int:
        try:
            return shares_of(obj.data.get(key), f"{obj} {key}")
        except OcfValueError as err:
            checks.add("ocf-quantity", str(err))
            return 0

    def holder_of(self, obj: OcfObject, checks: Checks) -> str:
        holder = identifier(obj.data.get("stakeholder_id"))
        if holder not in self.holders:
            checks.add("ocf-unknown-stakeholder", f"{obj}: stakeholder {obj.data.get('stakeholder_id')!r} "
                       "is not in the package's stakeholders")
        return holder

    def class_of(self, obj: OcfObject, value: Any, checks: Checks) -> str:
        share_class = identifier(value)
        if share_class not in self.classes:
            checks.add("ocf-unknown-stock-class", f"{obj}: stock class {value!r} is not in the package's "
                       "stock classes")
        return share_class

    def money(self, obj: OcfObject, key: str, checks: Checks) -> Money | None:
        value = obj.data.get(key)
        if value is None:
            return None
        try:
            return money_of(value, f"{obj} {key}")
        except (OcfValueError, ValidationError) as err:
            checks.add("ocf-money", f"{obj} {key}: {err}")
            return None

    # --- the package -------------------------------------------------------------------

    def run(self) -> Mapping:
        self.classify()
        transactions = [o for o in self.package.objects if o.object_type in MAPPED]
        self.index(transactions)
        self.structure(transactions)
        if self.result.problems:
            return self.result
        self.transactions(transactions)
        self.defects()
        return self.result

    def classify(self) -> None:
        for obj in self.package.objects:
            reason = unsupported_reason(obj.object_type)
            if reason is not None:
                self.result.unsupported.append(Note(str(obj), reason))
                self.unsupported_ids.update(_ids(obj.data.get("security_id")))
            elif obj.object_type in IGNORED:
                self.result.ignored.append(Note(str(obj), IGNORED[obj.object_type]))
        self.result.warnings.extend(self.package.warnings)

    def index(self, transactions: list[OcfObject]) -> None:
        kinds: dict[str, Kind] = {"TX_STOCK_ISSUANCE": "stock", "TX_WARRANT_ISSUANCE": "warrant"}
        for obj in transactions:
            if obj.object_type in kinds:
                key = (kinds[obj.object_type], str(obj.data.get("security_id")))
                if key in self.issuances:
                    self.problem(obj, "ocf-duplicate-security",
                                 f"{obj} issues security {key[1]!r}, already issued by {self.issuances[key]}")
                self.issuances[key] = obj
        for obj in self.package.objects:
            for name in RESULT_FIELDS:
                for sid in _ids(obj.data.get(name)):
                    self.produced_by.setdefault(sid, obj)

    def structure(self, transactions: list[OcfObject]) -> None:
        issuer = self.package.issuer
        formation = issuer.get("formation_date")
        dates = [str(o.data.get("date")) for o in self.package.objects if o.data.get("date")]
        first = min([*dates, str(formation)] if formation else dates or [self.dated.isoformat()])
        opened = _date(first, "first date")
        issuer_obj = OcfObject(issuer, "manifest", 0)
        try:
            self.add(IssuerCreated, issuer_obj, f"ocf-issuer-{issuer.get('id', 'issuer')}", opened,
                     issuer=self.result.issuer, name=self.name,
                     jurisdiction=issuer.get("country_of_formation"))
            for obj in self.package.of_file_type("OCF_STAKEHOLDERS_FILE"):
                holder = identifier(obj.data.get("id"))
                name = obj.data.get("name", {}).get("legal_name") or holder
                self.holders.add(holder)
                self.add(StakeholderAdded, obj, f"ocf-stakeholder-{holder}", opened, holder=holder, name=name)
            for obj in self.package.of_file_type("OCF_STOCK_CLASSES_FILE"):
                self.stock_class(obj, opened)
        except Broken as broken:
            for rule, message in broken.reasons:
                self.problem(issuer_obj, rule, message)

    def stock_class(self, obj: OcfObject, opened: date) -> None:
        share_class = identifier(obj.data.get("id"))
        authorized = obj.data.get("initial_shares_authorized")
        checks = Checks()
        try:
            count = shares_of(authorized, f"{obj} initial_shares_authorized")
        except OcfValueError as err:
            checks.add("ocf-authorized", f"{err}; capledger needs a number of authorized shares")
            count = 0
        par = self.money(obj, "par_value", checks)
        try:
            checks.done()
        except Broken as broken:
            for rule, message in broken.reasons:
                self.problem(obj, rule, message)
            return
        self.classes.add(share_class)
        self.add(ShareClassCreated, obj, f"ocf-stock-class-{share_class}", opened,
                 share_class=share_class, name=obj.data.get("name") or share_class, authorized=count,
                 par_value=par)

    def transactions(self, transactions: list[OcfObject]) -> None:
        by_date: dict[str, list[OcfObject]] = {}
        for obj in transactions:
            by_date.setdefault(str(obj.data.get("date")), []).append(obj)
        for day in sorted(by_date):
            pending = list(by_date[day])
            while pending:
                ready = next((o for o in pending if self.ready(o)), pending[0])
                pending.remove(ready)
                self.one(ready)

    def ready(self, obj: OcfObject) -> bool:
        sid = obj.data.get("security_id")
        if obj.object_type in ("TX_STOCK_ISSUANCE", "TX_WARRANT_ISSUANCE", "TX_STOCK_CLASS_SPLIT"):
            return True
        split = obj.data.get("split_transaction_id")
        if split and not any(o.id == split for o in self.package.objects if o.id in self.done):
            return False
        return sid in self.securities.open or sid in self.securities.broken

    def one(self, obj: OcfObject) -> None:
        handler = getattr(self, "on_" + obj.object_type.lower())
        try:
            handler(obj, _date(obj.data.get("date"), f"{obj} date"))
        except Broken as broken:
            for rule, message in broken.reasons:
                self.problem(obj, rule, message)
            for name in RESULT_FIELDS:
                for sid in _ids(obj.data.get(name)):
                    self.securities.broken[sid] = str(obj)
        self.done.add(obj.id)

    # --- stock ---------------------------------------------------------------------------

    def on_tx_stock_issuance(self, obj: OcfObject, day: date) -> None:
        sid = str(obj.data.get("security_id"))
        parent = self.produced_by.get(sid)
        if parent is not None and parent.object_type in MAPPED:
            return  # folded into the transaction that produced it
        checks = Checks()
        holder = self.holder_of(obj, checks)
        share_class = self.class_of(obj, obj.data.get("stock_class_id"), checks)
        quantity = self.quantity(obj, "quantity", checks)
        price = self.money(obj, "share_price", checks)
        cost = self.money(obj, "cost_basis", checks)
        checks.done()
        assert price is not None  # the schema requires share_price
        if parent is not None:
            self.result.warnings.append(f"{obj} is the result of {parent}, which is not imported; "
                                        "recorded as a plain issuance")
        if obj.data.get("vesting_terms_id") or obj.data.get("vestings"):
            self.result.unsupported.append(Note(str(obj), "its vesting is not modelled yet; the shares "
                                                "are imported as fully vested"))
        self.add(SharesPurchased, obj, obj.id, day, lot=identifier(sid), holder=holder,
                 share_class=share_class, quantity=quantity, price_per_share=price,
                 consideration=cost or price.times(quantity))
        self.securities.add(Security(sid, "stock", identifier(sid), holder, share_class, quantity, day,
                                     str(obj)))

    def result_security(self, obj: OcfObject, sid: str, src: Security, checks: Checks,
                        same_holder: bool = True, same_class: bool = True) -> tuple[str, str, int] | None:
        issued = self.derived(obj, sid, src.kind, checks)
        if issued is None:
            return None
        holder = self.holder_of(issued, checks)
        if src.kind == "stock":
            share_class = self.class_of(issued, issued.data.get("stock_class_id"), checks)
        else:
            share_class = self.warrant_class(issued, checks) or src.share_class
        quantity = self.quantity(issued, "quantity", checks)
        if same_holder and holder != src.holder:
            checks.add("ocf-result-holder", f"{obj}: resulting security {sid!r} ({issued}) belongs to "
                       f"{holder!r}, not to {src.holder!r} who held {src.ocf_id!r}")
        if same_class and share_class != src.share_class:
            checks.add("ocf-result-class", f"{obj}: resulting security {sid!r} is {share_class!r}, "
                       f"not {src.share_class!r}")
        self.result.folded.append(Note(str(issued), f"the result of {obj}"))
        return holder, share_class, quantity

    def take(self, obj: OcfObject, src: Security, quantity: int, verb: str, checks: Checks) -> None:
        if quantity > src.quantity:
            checks.add(f"ocf-{verb}-more-than-security",
                       f"{obj} {verb}s {n(quantity)} shares of security {src.ocf_id!r} but it holds only "
                       f"{n(src.quantity)} (issued by {src.origin})")

    def balance(self, obj: OcfObject, src: Security, left: int, checks: Checks) -> Security | None:
        """The balance security of a partial action, an alias of the same lot or warrant."""
        bid = str(obj.data.get("balance_security_id") or "")
        if left <= 0:
            if bid:
                checks.add("ocf-empty-balance", f"{obj} leaves no shares of {src.ocf_id!r}, yet names "
                           f"balance security {bid!r}")
            return None
        if not bid:
            self.result.warnings.append(f"{obj} leaves {n(left)} of security {src.ocf_id!r} but names no "
                                        "balance_security_id; the security keeps its id")
            return Security(src.ocf_id, src.kind, src.ours, src.holder, src.share_class, left,
                            src.issued, src.origin)
        found = self.result_security(obj, bid, src, checks)
        if found is not None and found[2] != left:
            checks.add("ocf-balance-quantity", f"{obj}: balance security {bid!r} holds {n(found[2])} "
                       f"shares, but {n(src.quantity)} - {n(src.quantity - left)} = {n(left)} remain")
        return Security(bid, src.kind, src.ours, src.holder, src.share_class, left, src.issued, str(obj))

    def finish(self, obj: OcfObject, src: Security, rest: Security | None,
               new: list[Security] | None = None) -> None:
        self.securities.end(src.ocf_id, str(obj))
        for security in [*(new or []), *([rest] if rest else [])]:
            self.securities.add(security)

    def on_tx_stock_transfer(self, obj: OcfObject, day: date) -> None:
        checks = Checks()
        src = self.source(obj, "stock", checks)
        checks.done()
        assert src is not None
        quantity = self.quantity(obj, "quantity", checks)
        self.take(obj, src, quantity, "transfer", checks)
        parts = []
        for rid in _ids(obj.data.get("resulting_security_ids")):
            found = self.result_security(obj, rid, src, checks, same_holder=False)
            if found:
                parts.append((rid, found))
        moved = sum(q for _, (_, _, q) in parts)
        if parts and moved != quantity:
            checks.add("ocf-transfer-results", f"{obj} transfers {n(quantity)} shares but its resulting "
                       f"securities hold {n(moved)}")
        rest = self.balance(obj, src, src.quantity - quantity, checks)
        checks.done()
        new = []
        for k, (rid, (holder, _, q)) in enumerate(parts):
            ident = obj.id if len(parts) == 1 else f"{obj.id}-{k + 1}"
            if holder == src.holder:  # a re-certification to the same holder: same lot
                new.append(Security(rid, "stock", src.ours, holder, src.share_class, q, src.issued, str(obj)))
                continue
            self.add(SharesTransferred, obj, ident, day, lot=src.ours, quantity=q, to_holder=holder,
                     new_lot=identifier(rid))
            new.append(Security(rid, "stock", identifier(rid), holder, src.share_class, q, day, str(obj)))
        self.finish(obj, src, rest, new)

    def on_tx_stock_cancellation(self, obj: OcfObject, day: date) -> None:
        checks = Checks()
        src = self.source(obj, "stock", checks)
        checks.done()
        assert src is not None
        quantity = self.quantity(obj, "quantity", checks)
        self.take(obj, src, quantity, "cancel", checks)
        rest = self.balance(obj, src, src.quantity - quantity, checks)
        notes = notes_of(obj.data)
        checks.done()
        if "refund_per_share" in notes:  # a rescission capledger exported (see docs/ocf.md)
            per_share = Money.model_validate(notes["refund_per_share"])
            self.add(PurchaseRescinded, obj, obj.id, day, lot=src.ours, quantity=quantity,
                     refund_per_share=per_share,
                     refund_total=notes.get("refund_total") or per_share.times(quantity))
        else:
            self.add(SharesCancelled, obj, obj.id, day, lot=src.ours, quantity=quantity,
                     memo=obj.data.get("reason_text"))
        self.finish(obj, src, rest)

    def on_tx_stock_repurchase(self, obj: OcfObject, day: date) -> None:
        checks = Checks()
        src = self.source(obj, "stock", checks)
        checks.done()
        assert src is not None
        quantity = self.quantity(obj, "quantity", checks)
        price = self.money(obj, "price", checks)
        self.take(obj, src, quantity, "repurchase", checks)
        rest = self.balance(obj, src, src.quantity - quantity, checks)
        checks.done()
        assert price is not None
        self.add(SharesRepurchased, obj, obj.id, day, lot=src.ours, quantity=quantity, price_per_share=price,
                 total=price.times(quantity), memo=obj.data.get("consideration_text"))
        self.finish(obj, src, rest)

    def on_tx_stock_retraction(self, obj: OcfObject, day: date) -> None:
        self.retraction(obj, day, "stock")

    def retraction(self, obj: OcfObject, day: date, kind: Kind) -> None:
        checks = Checks()
        src = self.source(obj, kind, checks)
        checks.done()
        assert src is not None
        memo = f"OCF retraction dated {day}: {obj.data.get('reason_text') or 'no reason given'}"
        notes = notes_of(obj.data)
        self.add(RescindedAbInitio, obj, obj.id, src.issued, security=src.ours, memo=memo,
                 refund_total=notes.get("refund_total"), refunded_on=notes.get("refunded_on"))
        self.finish(obj, src, None)

    def on_tx_stock_conversion(self, obj: OcfObject, day: date) -> None:
        checks = Checks()
        src = self.source(obj, "stock", checks)
        checks.done()
        assert src is not None
        quantity = self.quantity(obj, "quantity_converted", checks)
        self.take(obj, src, quantity, "convert", checks)
        parts = []
        for rid in _ids(obj.data.get("resulting_security_ids")):
            found = self.result_security(obj, rid, src, checks, same_class=False)
            if found:
                parts.append((rid, found))
        rest = self.balance(obj, src, src.quantity - quantity, checks)
        if not parts:
            checks.add("ocf-conversion-results", f"{obj} names no resulting security to convert into")
        checks.done()
        notes = notes_of(obj.data)
        made = sum(q for _, (_, _, q) in parts)
        ratio = Fraction(made, quantity)
        if "ratio" in notes:
            stated_new, stated_old = notes["ratio"].split("/")
            ratio = Fraction(int(stated_new), int(stated_old))
        cash = Money.model_validate(notes["cash_per_share"]) if "cash_per_share" in notes else None
        plan = []
        for k, (rid, (_, share_class, q)) in enumerate(parts):
            exact = Fraction(q) / ratio if len(parts) > 1 else Fraction(quantity)
            if exact.denominator != 1:
                checks.add("ocf-conversion-split", f"{obj}: converting {n(quantity)} into {n(made)} shares "
                           f"over {len(parts)} securities does not divide into whole shares per security")
            plan.append((k, rid, share_class, int(exact), q))
        checks.done()
        new = []
        for k, rid, share_class, part, q in plan:
            ident = obj.id if len(plan) == 1 else f"{obj.id}-{k + 1}"
            self.add(SharesConverted, obj, ident, day, lot=src.ours, quantity=part, to_class=share_class,
                     ratio=Ratio(new=ratio.numerator, old=ratio.denominator), new_lot=identifier(rid),
                     cash_per_share=cash)
            new.append(Security(rid, "stock", identifier(rid), src.holder, share_class, q, src.issued,
                                str(obj)))
        self.finish(obj, src, rest, new)

    def on_tx_stock_reissuance(self, obj: OcfObject, day: date) -> None:
        checks = Checks()
        src = self.source(obj, "stock", checks)
        checks.done()
        assert src is not None
        parts = []
        for rid in _ids(obj.data.get("resulting_security_ids")):
            found = self.result_security(obj, rid, src, checks)
            if found:
                parts.append((rid, found[2]))
        total = sum(q for _, q in parts)
        if total != src.quantity:
            checks.add("ocf-reissue-quantity", f"{obj} reissues security {src.ocf_id!r} of {n(src.quantity)} "
                       f"shares as securities holding {n(total)}; a reissue must carry the same shares")
        checks.done()
        new = [Security(rid, "stock", src.ours, src.holder, src.share_class, q, src.issued, str(obj))
               for rid, q in parts]
        self.result.folded.append(Note(str(obj), f"no entry: lot {src.ours!r} continues as "
                                       f"{', '.join(r for r, _ in parts)}"))
        self.finish(obj, src, None, new)

    def on_tx_stock_class_split(self, obj: OcfObject, day: date) -> None:
        checks = Checks()
        share_class = self.class_of(obj, obj.data.get("stock_class_id"), checks)
        raw = obj.data.get("split_ratio") or {}
        try:
            ratio = ratio_of(raw.get("numerator"), raw.get("denominator"), f"{obj} split_ratio")
        except OcfValueError as err:
            checks.add("ocf-ratio", str(err))
        checks.done()
        notes = notes_of(obj.data)
        cash = Money.model_validate(notes["cash_per_share"]) if "cash_per_share" in notes else None
        authorized = self.folded_authorized(obj, day)
        self.add(StockSplit, obj, obj.id, day, share_class=share_class, ratio=ratio, cash_per_share=cash,
                 authorized=authorized)
        for security in self.securities.of_class(share_class):
            self.securities.set_quantity(security.ocf_id, ratio.scale(security.quantity)[0])

    def folded_authorized(self, split: OcfObject, day: date) -> int | None:
        candidates = [o for o in self.package.objects
                      if o.object_type == "TX_STOCK_CLASS_AUTHORIZED_SHARES_ADJUSTMENT"
                      and o.id not in self.done
                      and o.data.get("stock_class_id") == split.data.get("stock_class_id")
                      and str(o.data.get("date")) == day.isoformat()]
        # capledger's own exports name the adjustment after its split; otherwise the first one.
        candidates.sort(key=lambda o: o.id != f"{split.id}.authorized")
        for obj in candidates[:1]:
                checks = Checks()
                count = self.quantity(obj, "new_shares_authorized", checks)
                checks.done()
                self.result.folded.append(Note(str(obj), f"the authorized shares after {split}"))
                self.done.add(obj.id)
                return count
        return None

    def on_tx_stock_class_authorized_shares_adjustment(self, obj: OcfObject, day: date) -> None:
        if obj.id in self.done:
            return
        self.result.unsupported.append(Note(str(obj), "capledger changes authorized shares only with a "
                                            "split of the class (no split of this class on this date)"))

    # --- warrants ------------------------------------------------------------------------

    def warrant_class(self, obj: OcfObject, checks: Checks) -> str | None:
        for trigger in obj.data.get("exercise_triggers") or []:
            right = trigger.get("conversion_right") or {}
            if right.get("converts_to_stock_class_id"):
                return self.class_of(obj, right["converts_to_stock_class_id"], checks)
        checks.add("ocf-warrant-class", f"{obj} names no stock class to exercise into "
                   "(converts_to_stock_class_id); capledger warrants are on one class")
        return None

    def warrant_terms(self, obj: OcfObject, checks: Checks) -> dict[str, Any]:
        triggers = obj.data.get("exercise_triggers") or []
        start = next((t.get("start_date") for t in triggers if t.get("type") == "ELECTIVE_IN_RANGE"), None)
        end = next((t.get("end_date") for t in triggers if t.get("type") == "ELECTIVE_IN_RANGE"), None)
        vestings = obj.data.get("vestings") or []
        if obj.data.get("vesting_terms_id") or len(vestings) > 1:
            checks.add("ocf-warrant-vesting", f"{obj} vests over time; vesting is not modelled yet")
        elif vestings:
            start = vestings[0].get("date")
        quantity = obj.data.get("quantity")
        for trigger in triggers:
            mechanism = (trigger.get("conversion_right") or {}).get("conversion_mechanism") or {}
            if quantity is None and mechanism.get("type") == "FIXED_AMOUNT_CONVERSION":
                quantity = mechanism.get("converts_to_quantity")
        if quantity is None:
            checks.add("ocf-warrant-quantity", f"{obj} states no fixed number of shares")
        price = self.money(obj, "exercise_price", checks)
        if price is None:
            checks.add("ocf-warrant-price", f"{obj} states no exercise price; capledger warrants have one")
        expires = obj.data.get("warrant_expiration_date") or end
        return {
            "shares": shares_of(quantity, f"{obj} quantity") if quantity is not None else 0,
            "exercise_price": price,
            "exercisable_from": _date(start, f"{obj} start date") if start else None,
            "expires": _date(expires, f"{obj} expiration date") if expires else None,
        }

    def on_tx_warrant_issuance(self, obj: OcfObject, day: date) -> None:
        sid = str(obj.data.get("security_id"))
        parent = self.produced_by.get(sid)
        if parent is not None and parent.object_type in MAPPED:
            return
        checks = Checks()
        holder = self.holder_of(obj, checks)
        share_class = self.warrant_class(obj, checks)
        try:
            terms = self.warrant_terms(obj, checks)
        except OcfValueError as err:
            checks.add("ocf-quantity", str(err))
        paid = self.money(obj, "purchase_price", checks)
        checks.done()
        if paid is not None and paid.amount == 0:
            paid = None  # nothing was paid for the warrant itself
        self.add(WarrantIssued, obj, obj.id, day, warrant=identifier(sid), holder=holder,
                 share_class=share_class, consideration=paid, **terms)
        self.securities.add(Security(sid, "warrant", identifier(sid), holder, str(share_class),
                                     terms["shares"], day, str(obj)))

    def on_tx_warrant_exercise(self, obj: OcfObject, day: date) -> None:
        checks = Checks()
        src = self.source(obj, "warrant", checks)
        checks.done()
        assert src is not None
        parts = []
        for rid in _ids(obj.data.get("resulting_security_ids")):
            issued = self.derived(obj, rid, "stock", checks)
            if issued is None:
                continue
            holder = self.holder_of(issued, checks)
            share_class = self.class_of(issued, issued.data.get("stock_class_id"), checks)
            if (holder, share_class) != (src.holder, src.share_class):
                checks.add("ocf-exercise-result", f"{obj}: resulting security {rid!r} is {share_class!r} of "
                           f"{holder!r}; the warrant is on {src.share_class!r} held by {src.holder!r}")
            parts.append((rid, self.quantity(issued, "quantity", checks)))
            self.result.folded.append(Note(str(issued), f"the shares issued on {obj}"))
        total = sum(q for _, q in parts)
        self.take(obj, src, total, "exercise", checks)
        checks.done()
        for k, (rid, q) in enumerate(parts):
            ident = obj.id if len(parts) == 1 else f"{obj.id}-{k + 1}"
            self.add(WarrantExercised, obj, ident, day, warrant=src.ours, shares=q, lot=identifier(rid))
            self.securities.add(Security(rid, "stock", identifier(rid), src.holder, src.share_class, q, day,
                                         str(obj)))
        if total == src.quantity:
            self.securities.end(src.ocf_id, str(obj))
        else:
            self.securities.set_quantity(src.ocf_id, src.quantity - total)

    def on_tx_warrant_cancellation(self, obj: OcfObject, day: date) -> None:
        checks = Checks()
        src = self.source(obj, "warrant", checks)
        checks.done()
        assert src is not None
        quantity = self.quantity(obj, "quantity", checks)
        self.take(obj, src, quantity, "cancel", checks)
        rest = self.balance(obj, src, src.quantity - quantity, checks)
        checks.done()
        if rest is None:
            self.add(WarrantCancelled, obj, obj.id, day, warrant=src.ours, memo=obj.data.get("reason_text"))
        else:
            self.add(WarrantAmended, obj, obj.id, day, warrant=src.ours, shares=rest.quantity,
                     memo=f"partial cancellation of {n(quantity)} shares: {obj.data.get('reason_text')}")
        self.finish(obj, src, rest)

    def on_tx_warrant_retraction(self, obj: OcfObject, day: date) -> None:
        self.retraction(obj, day, "warrant")

    # --- known defects -------------------------------------------------------------------

    def defects(self) -> None:
        """Dangling references and dates before formation: reported, never guessed at."""
        formation = self.package.issuer.get("formation_date")
        known = {str(o.data.get("id")) for o in self.package.objects}
        for obj in self.package.objects:
            day = obj.data.get("date")
            if formation and day and str(day) < str(formation):
                self.result.warnings.append(f"{obj} is dated {day}, before the issuer's formation date "
                                            f"{formation}")
            plan = obj.data.get("stock_plan_id")
            if plan and str(plan) not in known:
                self.result.warnings.append(f"{obj} refers to stock plan {plan!r}, which the package lacks")
            if obj.object_type in MAPPED:
                continue
            for name in RESULT_FIELDS:
                for sid in _ids(obj.data.get(name)):
                    if not any(k[1] == sid for k in self.issuances):
                        self.result.warnings.append(f"{obj} names resulting security {sid!r}, but the "
                                                    "package has no issuance for it")


def map_package(package: OcfPackage, issuer: str | None = None) -> Mapping:
    """The entries an OCF package stands for, with what was skipped, folded or wrong."""
    return Mapper(package, issuer).run()
