"""Open Cap Format (OCF) on the write side: reading and validating packages, and mapping
their objects to entries. The other direction (entries -> OCF) is ``projections.ocf_export``.
See docs/ocf.md for the mapping, event by event, and what OCF cannot say."""

from ledger.ocf.importer import Mapping, Note, map_package
from ledger.ocf.package import OcfPackage, read_package

__all__ = ["Mapping", "Note", "OcfPackage", "map_package", "read_package"]
