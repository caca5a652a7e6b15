"""Print a generated ledger as YAML journals that ``capledger record`` accepts.

A failing property prints its shrunk counterexample this way (through hypothesis ``note``):
one journal per recording, in order, so a person can save each block as a file and replay
the ledger with ``capledger record 1.yaml; capledger record 2.yaml; ...``.
"""

from __future__ import annotations

from collections.abc import Sequence

import yaml
from hypothesis import note

from ledger.entries import AnyEntry


def journal_yaml(issuer: str, entries: Sequence[AnyEntry], description: str | None = None) -> str:
    """One journal in the format of examples/neotherapeutics-2002/*.yaml. Figures are written
    as strings ("0.2325"), so they load back exactly, scale included."""
    data: dict[str, object] = {"issuer": issuer}
    if description:
        data["description"] = description
    data["entries"] = [e.content() for e in entries]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def journals_text(issuer: str, batches: Sequence[Sequence[AnyEntry]],
                  rejected: Sequence[AnyEntry] = ()) -> str:
    """Every recording as its own journal, separated by comment lines naming the file."""
    parts = [f"# Counterexample for issuer {issuer!r}: {len(batches)} journal(s). Save each "
             "block as its own file and record them in order:\n#   capledger record "
             "--ledger replay.sqlite 1.yaml; capledger record --ledger replay.sqlite 2.yaml; ..."]
    for i, batch in enumerate(batches, start=1):
        parts.append(f"# ---- {i}.yaml (recording {i} of {len(batches)}) ----")
        parts.append(journal_yaml(issuer, batch))
    if rejected:
        parts.append(f"# ---- {len(batches) + 1}.yaml: the journal the test then tried to record ----")
        parts.append(journal_yaml(issuer, rejected))
    return "\n".join(parts)


def note_journals(issuer: str, batches: Sequence[Sequence[AnyEntry]],
                  rejected: Sequence[AnyEntry] = ()) -> None:
    """Attach the ledger to the current example: hypothesis prints it if the example fails."""
    note(journals_text(issuer, batches, rejected))
