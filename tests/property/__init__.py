"""Property-based consistency suite: generated ledgers, an independent model, and the laws.

- ``strategies``: valid ledgers (every kind of entry, dates over years, same-day and
  back-dated entries, corrections and voids) grown step by step; ``invalid``: one strategy
  per rule the decisions enforce.
- ``model``: a deliberately simple model of the ledger, sharing no code with ``ledger.book``
  or ``projections``; the oracle of ``test_stateful``.
- ``test_laws``: each law of ``projections.laws`` (the ones ``capledger check`` runs) as
  its own test; ``test_invalid``: rejected entries leave the log as it was.
- ``journal_report``: a failing example is printed as YAML journals to replay with
  ``capledger record``.

A new kind of entry joins with one drafting strategy (``strategies.KINDS``), one model
method (``model.MState.on_<Type>``), one invalid strategy per new rule (``invalid``), and
its effect in the control book and warrant walk of ``projections.laws``.
Profiles (``conftest``): ci (default, derandomized), dev, soak (``make soak``).
"""
