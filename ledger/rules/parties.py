"""The issuer, its holders and its share classes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.entries import IssuerCreated, ShareClassCreated, StakeholderAdded
from ledger.state import RuleBroken, ShareClass

if TYPE_CHECKING:
    from ledger.book import Book


def issuer_created(book: Book, e: IssuerCreated) -> None:
    if book.issuer is not None:
        raise RuleBroken("duplicate-issuer", f"issuer {book.issuer.issuer!r} is already created")
    book.issuer = e


def stakeholder_added(book: Book, e: StakeholderAdded) -> None:
    if e.holder in book.holders:
        raise RuleBroken("duplicate-holder", f"holder {e.holder!r} is already added")
    book.holders[e.holder] = e


def share_class_created(book: Book, e: ShareClassCreated) -> None:
    if e.share_class in book.classes:
        raise RuleBroken("duplicate-class", f"share class {e.share_class!r} is already created")
    book.classes[e.share_class] = ShareClass(e.share_class, e.name, e.authorized)
