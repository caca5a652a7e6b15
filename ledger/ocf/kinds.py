"""Which OCF object types capledger imports, which it ignores and which it cannot hold yet."""

from __future__ import annotations

# Transactions mapped to entries (see docs/ocf.md for the table).
MAPPED = frozenset({
    "TX_STOCK_ISSUANCE", "TX_STOCK_TRANSFER", "TX_STOCK_CANCELLATION", "TX_STOCK_REPURCHASE",
    "TX_STOCK_RETRACTION", "TX_STOCK_CONVERSION", "TX_STOCK_REISSUANCE", "TX_STOCK_CLASS_SPLIT",
    "TX_STOCK_CLASS_AUTHORIZED_SHARES_ADJUSTMENT",
    "TX_WARRANT_ISSUANCE", "TX_WARRANT_EXERCISE", "TX_WARRANT_CANCELLATION", "TX_WARRANT_RETRACTION",
})
# Objects that change no figure capledger reports: read, listed, not recorded.
IGNORED = {
    "TX_STOCK_ACCEPTANCE": "an acceptance changes no holding",
    "TX_WARRANT_ACCEPTANCE": "an acceptance changes no holding",
    "CE_STAKEHOLDER_RELATIONSHIP": "stakeholder relationships are not recorded",
    "CE_STAKEHOLDER_STATUS": "stakeholder statuses are not recorded",
    "VALUATION": "valuations are not recorded",
    "STOCK_LEGEND_TEMPLATE": "legends are not recorded",
    "DOCUMENT": "documents are not recorded",
    "FINANCING": "financings are not recorded",
}
# Read from the package's own fields, not as transactions.
STRUCTURE = frozenset({"ISSUER", "STAKEHOLDER", "STOCK_CLASS"})


def unsupported_reason(object_type: str) -> str | None:
    """Why capledger cannot import this type yet, or None when it can (or ignores it)."""
    if object_type in MAPPED or object_type in IGNORED or object_type in STRUCTURE:
        return None
    if object_type.startswith(("TX_EQUITY_COMPENSATION_", "TX_PLAN_SECURITY_", "TX_STOCK_PLAN_")) \
            or object_type == "STOCK_PLAN":
        return "options and other equity compensation are not modelled yet"
    if object_type.startswith("TX_CONVERTIBLE_"):
        return "convertibles are not modelled yet"
    if object_type.startswith("TX_VESTING_") or object_type == "VESTING_TERMS":
        return "vesting is not modelled yet"
    return f"capledger has no event for {object_type} yet"
