"""How cost grows with the ledger: one plot from benchmarks/results/*.json.

    python -m benchmarks.plot      # writes docs/images/perf-scaling.png
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import contextlib

import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "images" / "perf-scaling.png"

RATES = (("bulk recording", lambda r: r["bulk"]["events_per_s"]),
         ("audit replay", lambda r: r["replay"]["events_per_s"]),
         ("library repository.get", lambda r: r["replay"]["library_repository_get"]["events_per_s"]),
         ("views build", lambda r: r["views_build"]["events_per_s"]))
LATENCIES = (("cap table p50", lambda r: r["cap_table"]["p50_ms"]),
             ("plain SQL SUM p50", lambda r: r["sql_baseline"]["p50_ms"]),
             ("one holder p50", lambda r: r["holder_position"]["p50_ms"]),
             ("interactive entry p50", lambda r: r["interactive"]["record"]["p50_ms"]),
             ("CLI cold (ms)", lambda r: r["cli_cold"]["seconds"] * 1e3))


def load() -> list[dict[str, Any]]:
    found = [json.loads(p.read_text()) for p in (ROOT / "benchmarks" / "results").glob("*.json")]
    return sorted(found, key=lambda r: r["events"])


def main() -> None:
    results = load()
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    for backend, style in (("sqlite", "-"), ("postgres", "--")):
        runs = [r for r in results if backend in r["backends"]]
        sizes = [r["events"] for r in runs]
        for axis, series in ((left, RATES), (right, LATENCIES)):
            for i, (label, get) in enumerate(series):
                points = []
                for size, r in zip(sizes, runs, strict=True):
                    with contextlib.suppress(KeyError, TypeError):
                        points.append((size, get(r["backends"][backend])))
                if points:
                    xs, ys = zip(*points, strict=True)
                    axis.plot(xs, ys, style, marker="o", color=f"C{i}", label=f"{label} ({backend})")
    left.set(xscale="log", yscale="log", xlabel="events in the ledger", ylabel="events/s",
             title="Throughput (higher is better)")
    right.set(xscale="log", yscale="log", xlabel="events in the ledger", ylabel="ms",
              title="Latency, p50 (lower is better)")
    for axis in (left, right):
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=7)
    fig.tight_layout()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT, dpi=110)
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
