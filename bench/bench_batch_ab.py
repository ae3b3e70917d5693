"""The daily batch, the code before a change against the code after it, on the same machine in
the same session: alternating `bench_batch.py` runs of both, each on its own database loaded by
its own code from the same seed (so the same plays, each with its own schema), and the floor
(one GROUP BY over the same plays, bench_batch.group_by_floor) timed right after every run.

    git worktree add /work/wt/baseline <commit before> && (cd /work/wt/baseline &&
        python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]')
    flock /tmp/bench.lock .venv/bin/python -m bench.bench_batch_ab --baseline /work/wt/baseline \\
        [--plays 3000000 --days 1] [--rounds 3] [--load]

`--load` (re)loads both databases first (each code's bench_batch.py without --reuse; the first
run after a load inserts the daily rows, later ones update them, so the load's own run is not
counted). Every counted run recomputes every day with `--reuse`. Prints each run, then the
medians of both, after / before by wall time and by the ratio to the floor. The code before
need not print a floor: this script measures it the same way for both.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.bench_batch import SERVER, group_by_floor  # noqa: E402
from services.common import db  # noqa: E402
from services.common.settings import Settings  # noqa: E402

RUN_LINE = re.compile(r"run 1: (\d+) day\(s\), ([\d,]+) plays read .*?: ([\d.]+) s,")


def bench_once(code: Path, database: str, args: argparse.Namespace, *, reuse: bool) -> tuple[float, int]:
    """One bench_batch.py process of the code in `code`: (seconds, days) of its run."""
    command = [str(code / ".venv" / "bin" / "python"), "-m", "bench.bench_batch", "--database", database]
    command += ["--plays", str(args.plays), "--days", str(args.days), "--runs", "1"]
    command += ["--reuse"] if reuse else []
    out = subprocess.run(command, cwd=code, capture_output=True, text=True, check=False)
    match = RUN_LINE.search(out.stdout)
    if out.returncode != 0 or not match:
        raise SystemExit(f"{code}: bench_batch failed ({out.returncode}):\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")
    return float(match.group(3)), int(match.group(1))


def floor_of(database: str) -> float:
    engine = db.make_engine(Settings(db_url=f"{SERVER}/{database}"))
    try:
        with engine.connect() as conn:
            days = [r[0] for r in conn.execute(sa.text("SELECT DISTINCT local_day FROM plays ORDER BY 1"))]
        return group_by_floor(engine, days)
    finally:
        engine.dispose()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--baseline", type=Path, required=True, help="a checkout of the code before, with its .venv")
    p.add_argument("--plays", type=int, default=3_000_000)
    p.add_argument("--days", type=int, default=1)
    p.add_argument("--rounds", type=int, default=3, help="alternating before/after pairs")
    p.add_argument("--load", action="store_true", help="load both databases first")
    args = p.parse_args()
    size = f"{args.plays // 1_000_000}m{args.days}d"
    codes = {"before": args.baseline.resolve(), "after": ROOT}
    databases = {name: f"bench_ab_{size}_{name}" for name in codes}
    if args.load:
        for name, code in codes.items():
            seconds, _ = bench_once(code, databases[name], args, reuse=False)
            print(
                f"loaded {databases[name]} with the code {name} ({code}); its first run {seconds:.2f} s (not counted)"
            )
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in codes}
    for round_no in range(args.rounds):
        order = list(codes) if round_no % 2 == 0 else list(reversed(codes))
        for name in order:
            load_before = os.getloadavg()[0]
            seconds, days = bench_once(codes[name], databases[name], args, reuse=True)
            floor = floor_of(databases[name])
            results[name].append((seconds, floor))
            print(
                f"round {round_no + 1} {name:6}: {days} day(s) {seconds:7.2f} s, floor {floor:6.2f} s,"
                f" ratio {floor / seconds:.2f}; load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    med = {name: statistics.median(s for s, _ in runs) for name, runs in results.items()}
    ratio = {name: statistics.median(f / s for s, f in runs) for name, runs in results.items()}
    print(
        f"\n{args.plays:,} plays over {args.days} day(s), {args.rounds} rounds:"
        f"\n  before: median {med['before']:.2f} s, ratio to floor {ratio['before']:.2f}"
        f"\n  after:  median {med['after']:.2f} s, ratio to floor {ratio['after']:.2f}"
        f"\n  after / before: wall {med['after'] / med['before'] - 1:+.1%},"
        f" floor-normalized {ratio['before'] / ratio['after'] - 1:+.1%} (target within +15%)"
    )


if __name__ == "__main__":
    main()
