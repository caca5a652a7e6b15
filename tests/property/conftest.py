"""Hypothesis profiles for the property suite, chosen with HYPOTHESIS_PROFILE.

ci    (the default) derandomized and bounded: reproducible in CI, the whole property suite
      well under 3 minutes on 2 cores.
dev   more examples, random, with the example database: for working on the suite.
soak  at least 100,000 examples per law (SOAK_EXAMPLES overrides), random; ``make soak``
      passes --hypothesis-seed and prints it, so a failure can be replayed exactly.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, settings

_SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]

settings.register_profile(
    "ci", derandomize=True, database=None, max_examples=120, deadline=None, print_blob=True,
    suppress_health_check=_SLOW_IS_FINE,
)
settings.register_profile(
    "dev", max_examples=300, deadline=None, print_blob=True, suppress_health_check=_SLOW_IS_FINE,
)
settings.register_profile(
    "soak", max_examples=int(os.environ.get("SOAK_EXAMPLES", "100000")), deadline=None,
    database=None, print_blob=True, suppress_health_check=_SLOW_IS_FINE,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)
ACTIVE = settings.get_profile(PROFILE)


def examples(share: float, least: int = 5) -> int:
    """A share of the profile's examples, for the costlier properties (a real SQLite file,
    the stateful test)."""
    return max(least, int(ACTIVE.max_examples * share))


def pytest_report_header(config: pytest.Config) -> str:
    seed = config.getoption("hypothesis_seed", None)
    if seed is None:
        seed = "derandomized" if ACTIVE.derandomize else "random"
    return (f"capledger property suite: profile {PROFILE!r}, "
            f"{ACTIVE.max_examples} examples per law, seed {seed}")
