"""The benchmark: one run prints a table and writes JSON (benchmarks/results/<size>-<backend>.json).

    python -m benchmarks.run --size 100k                 # make bench
    python -m benchmarks.run --size 1M                   # make bench-full
    python -m benchmarks.run --size 10k --backends sqlite --runs 3

For each backend (SQLite; PostgreSQL when reachable at $BENCH_POSTGRES, default
postgresql://postgres@127.0.0.1:5432): bulk recording (journals of 10,000 entries, every rule
checked), catching the materialized views up, one interactive entry at a time on the loaded
ledger, the audit replay in a child process (chain verify + read + re-book + rebuild every
projection; peak RSS), cap table and one holder's position as of random dates (views), the CLI
from a cold process; and the baselines: the library's repository.get, a plain SQL SUM over a
transactions table, Beancount 3 on the same ledger (from its file, cold).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import baselines
from benchmarks.generate import ISSUER, SIZES, Workload, generate

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
JOURNAL = 10_000  # entries per recording in the bulk load
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432"


def pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def ms(samples: list[float]) -> dict[str, float]:
    return {"p50_ms": pct(samples, 0.5) * 1e3, "p99_ms": pct(samples, 0.99) * 1e3, "n": len(samples)}


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def log(msg: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Clock:
    """Recorded times one second apart from a fixed start: a deterministic run."""

    def __init__(self) -> None:
        self.now = datetime(2025, 1, 6, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


# --- backends ----------------------------------------------------------------------------------


class Backend:
    name = ""

    def location(self) -> str: ...

    def drop(self) -> None: ...


class SQLite(Backend):
    name = "sqlite"

    def __init__(self, workdir: Path) -> None:
        self.path = workdir / "ledger.sqlite"

    def location(self) -> str:
        return str(self.path)

    def drop(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)


class Postgres(Backend):
    name = "postgres"

    def __init__(self, server: str) -> None:
        self.server = server.rstrip("/")
        self.db = f"capledger_bench_{os.getpid()}"
        self._admin("CREATE DATABASE " + self.db)

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.server + "/postgres", autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def location(self) -> str:
        return f"{self.server}/{self.db}"

    def drop(self) -> None:
        self._admin(f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")


def postgres_reachable(server: str) -> bool:
    try:
        import psycopg

        with psycopg.connect(server + "/postgres", connect_timeout=3):
            return True
    except Exception as problem:  # any failure: skip PostgreSQL, say why
        log(f"PostgreSQL not reachable at {server}: {problem}")
        return False


# --- the measurements --------------------------------------------------------------------------


def bulk_load(location: str, entries: list[Any]) -> dict[str, Any]:
    from ledger.application import Ledger

    ledger = Ledger.open(location, clock=Clock())
    per_journal = []
    t0 = time.perf_counter()
    for i in range(0, len(entries), JOURNAL):
        cpu = time.process_time()
        dt, _ = timed(lambda i=i: ledger.record(ISSUER, entries[i:i + JOURNAL]))
        per_journal.append(dt)
        # CPU time beside wall time: a journal that waited (on the disk) shows less CPU than wall.
        log(f"  recorded {i + JOURNAL:>9,} entries ({dt:.2f} s for this journal, "
            f"{time.process_time() - cpu:.2f} s CPU)")
    total = time.perf_counter() - t0
    ledger.close()
    return {"events": len(entries), "seconds": total, "events_per_s": len(entries) / total,
            "journal_s_first": per_journal[0], "journal_s_last": per_journal[-1]}


def interactive(location: str, w: Workload, samples: int) -> dict[str, Any]:
    """One entry per ``record`` on the loaded ledger, effective on the ledger's last date (the
    common case); then the views catching up with it, measured apart."""
    from ledger.application import Ledger
    from ledger.entries import parse_entry
    from projections.materialized import MaterializedViews

    ledger = Ledger.open(location, clock=Clock())
    views = MaterializedViews.open(ledger.store)
    views.catch_up()
    rng = random.Random(7)
    day = w.last_day.isoformat()
    record, project = [], []
    for k in range(samples + 3):
        lot = f"I{k}"
        entry = parse_entry({
            "id": f"interactive-{k}", "type": "SharesPurchased", "effective": day, "lot": lot,
            "holder": f"h{rng.randint(1, w.holders):05d}", "share_class": "common", "quantity": 100,
            "price_per_share": "1.00 USD", "consideration": "100.00 USD",
            "citation": {"document": f"SPA {lot}", "dated": day, "section": "1"}})
        dt, _ = timed(lambda entry=entry: ledger.record(ISSUER, [entry]))
        dp, _ = timed(views.catch_up)
        if k >= 3:  # the first few warm the process
            record.append(dt)
            project.append(dp)
    ledger.close()
    return {"record": ms(record), "views_catch_up": ms(project)}


def cold_record(location: str, w: Workload, runs: int) -> dict[str, Any]:
    """One entry from a new process, starting from the snapshot, and (baseline) from the log."""
    day, holder = w.last_day.isoformat(), "h00001"
    out: dict[str, Any] = {}
    for mode, extra in (("snapshot", []), ("full_log", ["--full"])):
        found = [child(["-m", "benchmarks.cold_record", location, ISSUER, day, holder, f"{mode}-{k}", *extra])
                 for k in range(runs)]
        out[mode] = {"runs": found, "seconds": statistics.median(r["seconds"] for r in found)}
    return out


def child(args: list[str]) -> dict[str, Any]:
    out = subprocess.run([sys.executable, *args], check=True, capture_output=True, text=True, cwd=ROOT)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def replays(location: str, runs: int) -> dict[str, Any]:
    """The streamed replay (two passes, bounded read: ``projections.replay``), the one-pass
    replay into a list (``--list``: faster, holds the log) and the library's own read, each
    ``runs`` times in processes of their own."""

    def median_of(extra: list[str]) -> dict[str, Any]:
        found = [child(["-m", "benchmarks.replay", location, ISSUER, *extra]) for _ in range(runs)]
        total = statistics.median(r["total_s"] for r in found)
        return {"runs": found, "seconds": total, "events_per_s": found[0]["events"] / total,
                "maxrss_mb": statistics.median(r["maxrss_mb"] for r in found)}

    streamed = median_of([])
    return {"events": streamed["runs"][0]["events"], **streamed, "one_pass_list": median_of(["--list"]),
            "library_repository_get": median_of(["--library"])}


def queries(location: str, w: Workload, samples: int) -> dict[str, Any]:
    from ledger.store import LedgerStore
    from projections.materialized import MaterializedViews

    store = LedgerStore(location)
    views = MaterializedViews.open(store)
    views.catch_up()
    rng = random.Random(11)
    span = (w.last_day - w.first_day).days
    days = [w.first_day + timedelta(days=rng.randint(0, span)) for _ in range(samples + 2)]
    cap, one = [], []
    for k, d in enumerate(days):
        dt, _ = timed(lambda d=d: views.cap_table(ISSUER, d))
        holder = f"h{rng.randint(1, w.holders):05d}"
        dh, _ = timed(lambda d=d, holder=holder: views.holder_position(ISSUER, holder, d))
        if k >= 2:
            cap.append(dt)
            one.append(dh)
    store.close()
    return {"cap_table": ms(cap), "holder_position": ms(one)}


def check_against_sql(location: str, db_sum: Callable[[date], dict[tuple[str, str], int]], day: date) -> bool:
    """The views' cap table must equal the plain SQL sum (COMMON shares, WARRANT shares)."""
    from ledger.store import LedgerStore
    from projections.materialized import MaterializedViews

    store = LedgerStore(location)
    cap = MaterializedViews.open(store).cap_table(ISSUER, day)
    store.close()
    mine = {}
    for row in cap.rows:
        for _, q in row.shares.items():
            mine[(row.holder, "COMMON")] = q
        if row.warrant_shares:
            mine[(row.holder, "WARRANT")] = row.warrant_shares
    theirs = {k: v for k, v in db_sum(day).items() if v}
    if mine != theirs:
        diff = {k: (mine.get(k), theirs.get(k)) for k in mine.keys() | theirs.keys()
                if mine.get(k) != theirs.get(k)}
        log(f"  MISMATCH views vs SQL on {day}: {len(diff)} differences, e.g. {list(diff.items())[:3]}")
    return mine == theirs


def cli_cold(location: str, day: date, runs: int) -> dict[str, Any]:
    exe = Path(sys.executable).parent / "capledger"
    cmd = [str(exe), "captable", "--ledger", location, "--issuer", ISSUER, "--as-of", day.isoformat(),
           "--json"]
    times = []
    for _ in range(runs):
        dt, _ = timed(lambda: subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=ROOT))
        times.append(dt)
    return {"command": " ".join(cmd), "runs_s": times, "seconds": statistics.median(times)}


def sql_baseline(db_sum: Callable[[date], Any], w: Workload, samples: int) -> dict[str, Any]:
    rng = random.Random(11)
    span = (w.last_day - w.first_day).days
    days = [w.first_day + timedelta(days=rng.randint(0, span)) for _ in range(samples + 2)]
    found = []
    for k, d in enumerate(days):
        dt, _ = timed(lambda d=d: db_sum(d))
        if k >= 2:
            found.append(dt)
    return ms(found)


def beancount(w: Workload, workdir: Path, day: date, runs: int) -> dict[str, Any]:
    path = workdir / "ledger.beancount"
    baselines.write_beancount(path, w.postings, w.holders, w.first_day)
    times, answer = [], {}
    for _ in range(runs):
        dt, answer = timed(lambda: child(["-m", "benchmarks.baselines", "beancount", str(path),
                                          day.isoformat()]))
        times.append(dt)
    return {"file_mb": path.stat().st_size / 2**20, "runs_s": times, "seconds": statistics.median(times),
            "load_s": answer["load_s"], "errors": answer["errors"], "totals": answer["totals"]}


# --- one size, one backend ---------------------------------------------------------------------


def run_backend(backend: Backend, w: Workload, entries: list[Any], args: argparse.Namespace,
                workdir: Path) -> dict[str, Any]:
    from projections.materialized import MaterializedViews

    loc = backend.location()
    result: dict[str, Any] = {"backend": backend.name, "size": w.size, "holders": w.holders,
                              "late_entries": w.late}
    loads = []
    for r in range(args.load_runs):
        backend.drop() if r else None
        if r and isinstance(backend, Postgres):
            backend._admin("CREATE DATABASE " + backend.db)
        log(f"{backend.name}: bulk load {r + 1}/{args.load_runs}")
        loads.append(bulk_load(loc, entries))
    result["bulk"] = {"runs": loads, "events_per_s": statistics.median(x["events_per_s"] for x in loads)}

    log(f"{backend.name}: materialized views catch up")
    from ledger.store import LedgerStore

    store = LedgerStore(loc)
    dt, n = timed(MaterializedViews.open(store).catch_up)
    store.close()
    result["views_build"] = {"events": n, "seconds": dt, "events_per_s": n / dt if dt else None}

    log(f"{backend.name}: queries")
    result.update(queries(loc, w, args.samples))
    log(f"{backend.name}: audit replay x{args.runs}")
    result["replay"] = replays(loc, args.runs)
    log(f"{backend.name}: plain SQL baseline")
    day = w.first_day + timedelta(days=(w.last_day - w.first_day).days * 2 // 3)
    if isinstance(backend, SQLite):
        db = baselines.sqlite_table(str(workdir / "transactions.sqlite"), w.postings)
        result["sql_baseline"] = sql_baseline(lambda d: baselines.sqlite_sum(db, d), w, args.sql_samples)
        result["views_equal_sql"] = check_against_sql(loc, lambda d: baselines.sqlite_sum(db, d), day)
        db.close()
    else:
        import psycopg

        with psycopg.connect(loc) as conn:
            baselines.postgres_table(conn, w.postings)
            result["sql_baseline"] = sql_baseline(lambda d: baselines.postgres_sum(conn, d), w,
                                                  args.sql_samples)
            result["views_equal_sql"] = check_against_sql(loc, lambda d: baselines.postgres_sum(conn, d), day)
    result["cli_as_of"] = day.isoformat()
    log(f"{backend.name}: CLI cold x{args.runs}")
    result["cli_cold"] = cli_cold(loc, day, args.runs)
    log(f"{backend.name}: interactive entries")
    result["interactive"] = interactive(loc, w, args.samples)
    log(f"{backend.name}: one entry from a cold process x{args.runs}")
    result["cold_record"] = cold_record(loc, w, args.runs)
    return result


def machine() -> dict[str, Any]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import sqlite3

    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "platform": platform.platform(),
            "mem_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="100k", choices=sorted(SIZES))
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3, help="runs of the replay and the cold processes")
    parser.add_argument("--load-runs", type=int, default=1, help="bulk loads (each from an empty ledger)")
    parser.add_argument("--samples", type=int, default=200, help="samples per latency figure")
    parser.add_argument("--sql-samples", type=int, default=20)
    parser.add_argument("--beancount", choices=("auto", "yes", "no"), default="auto",
                        help="auto: at sizes up to 100k")
    parser.add_argument("--beancount-runs", type=int, default=None,
                        help="cold Beancount loads (default: --runs; one takes minutes at 1M)")
    args = parser.parse_args()

    size, holders = SIZES[args.size]
    log(f"generating {size:,} entries, {holders:,} holders, seed {args.seed}")
    gen_s, w = timed(lambda: generate(size, holders, args.seed))
    from ledger.entries import parse_entry

    parse_s, entries = timed(lambda: [parse_entry(e) for e in w.entries])
    log(f"  generated in {gen_s:.1f} s, parsed in {parse_s:.1f} s; {w.late:,} recorded late")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"size": args.size, "events": size, "holders": holders, "seed": args.seed,
                           "late_entries": w.late, "machine": machine(), "parse_events_per_s": size / parse_s,
                           "command": " ".join(["python -m benchmarks.run", *sys.argv[1:]]), "backends": {}}
    server = os.environ.get("BENCH_POSTGRES", PG_DEFAULT)
    with tempfile.TemporaryDirectory(prefix="capledger-bench-") as tmp:
        workdir = Path(tmp)
        for name in args.backends.split(","):
            if name == "postgres" and not postgres_reachable(server):
                continue
            backend: Backend = SQLite(workdir) if name == "sqlite" else Postgres(server)
            try:
                out["backends"][name] = run_backend(backend, w, entries, args, workdir)
            finally:
                backend.drop()
        if args.beancount == "yes" or (args.beancount == "auto" and size <= 100_000):
            log("Beancount baseline")
            day = date.fromisoformat(next(iter(out["backends"].values()))["cli_as_of"])
            out["beancount"] = beancount(w, workdir, day, args.beancount_runs or args.runs)
            out["beancount"].pop("totals")
    path = RESULTS / f"{args.size}.json"
    path.write_text(json.dumps(out, indent=2, default=str))
    print(table(out))
    log(f"wrote {path.relative_to(ROOT)}")


def table(out: dict[str, Any]) -> str:
    lines = [f"capledger benchmark: {out['events']:,} events, {out['holders']:,} holders, "
             f"{out['late_entries']:,} recorded late (seed {out['seed']}); {out['machine']['cpu']}, "
             f"{out['machine']['cores']} cores", ""]
    head = f"{'figure':<44}" + "".join(f"{b:>16}" for b in out["backends"])
    lines += [head, "-" * len(head)]

    def row(label: str, get: Callable[[dict[str, Any]], Any], fmt: str) -> None:
        cells = []
        for r in out["backends"].values():
            try:
                cells.append(format(get(r), fmt))
            except (KeyError, TypeError):
                cells.append("-")
        lines.append(f"{label:<44}" + "".join(f"{c:>16}" for c in cells))

    row("bulk recording (events/s)", lambda r: r["bulk"]["events_per_s"], ",.0f")
    row("views build from empty (events/s)", lambda r: r["views_build"]["events_per_s"], ",.0f")
    row("interactive entry p50 (ms)", lambda r: r["interactive"]["record"]["p50_ms"], ".2f")
    row("interactive entry p99 (ms)", lambda r: r["interactive"]["record"]["p99_ms"], ".2f")
    row("  + views catch-up p50 (ms)", lambda r: r["interactive"]["views_catch_up"]["p50_ms"], ".2f")
    row("  + views catch-up p99 (ms)", lambda r: r["interactive"]["views_catch_up"]["p99_ms"], ".2f")
    row("audit replay (events/s)", lambda r: r["replay"]["events_per_s"], ",.0f")
    row("  library repository.get (events/s)",
        lambda r: r["replay"]["library_repository_get"]["events_per_s"], ",.0f")
    row("  ratio replay / repository.get", lambda r: r["replay"]["events_per_s"]
        / r["replay"]["library_repository_get"]["events_per_s"], ".2f")
    row("replay peak RSS (MB)", lambda r: r["replay"]["maxrss_mb"], ",.0f")
    row("  one pass into a list (events/s)", lambda r: r["replay"]["one_pass_list"]["events_per_s"], ",.0f")
    row("  one pass into a list, peak RSS (MB)", lambda r: r["replay"]["one_pass_list"]["maxrss_mb"], ",.0f")
    row("cap table as of D p50 (ms)", lambda r: r["cap_table"]["p50_ms"], ".2f")
    row("cap table as of D p99 (ms)", lambda r: r["cap_table"]["p99_ms"], ".2f")
    row("  plain SQL SUM GROUP BY p50 (ms)", lambda r: r["sql_baseline"]["p50_ms"], ".2f")
    row("  ratio SQL / views", lambda r: r["sql_baseline"]["p50_ms"] / r["cap_table"]["p50_ms"], ".1f")
    row("  views equal the SQL sum", lambda r: r["views_equal_sql"], "")
    row("one holder as of D p50 (ms)", lambda r: r["holder_position"]["p50_ms"], ".3f")
    row("one holder as of D p99 (ms)", lambda r: r["holder_position"]["p99_ms"], ".3f")
    row("CLI captable --as-of, cold process (s)", lambda r: r["cli_cold"]["seconds"], ".3f")
    row("one entry, cold process, snapshot (s)", lambda r: r["cold_record"]["snapshot"]["seconds"], ".3f")
    row("one entry, cold process, whole log (s)", lambda r: r["cold_record"]["full_log"]["seconds"], ".3f")
    row("  ratio whole log / snapshot",
        lambda r: r["cold_record"]["full_log"]["seconds"] / r["cold_record"]["snapshot"]["seconds"], ".1f")
    bc = out.get("beancount")
    if bc:
        row("  Beancount from its file, cold (s)", lambda r: bc["seconds"], ".2f")
        row("  ratio Beancount / CLI", lambda r: bc["seconds"] / r["cli_cold"]["seconds"], ".1f")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
