"""Materialized projections: the read models in SQL tables beside the events.

Bitemporal rows (effective interval in dates, recorded interval in the issuer's sequence
numbers), updated exactly once per event under the library's tracking records, answering the
same questions as the pure fold in ``projections`` with the same types. See
docs/materialized.md.

    from projections.materialized import MaterializedViews
    views = MaterializedViews.open(ledger.store)
    views.holdings(issuer, as_of, known_at)
"""

from projections.materialized.projector import Projector
from projections.materialized.queries import MaterializedViews

__all__ = ["MaterializedViews", "Projector"]
