"""bench/bench_batch.py's command line (issue 30's benchmark): it starts and says what it
takes, and a wrong engine or master is refused before anything is loaded or started. The
benchmark itself is run by hand (bench/README.md); nothing here measures speed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bench.bench_batch", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help_names_the_engines_masters_and_sources():
    result = _bench("--help")
    assert result.returncode == 0, result.stderr
    for option in ("--engine", "--spark-master", "--workers", "--spark-plays", "core-seconds per million plays"):
        assert option in result.stdout.lower()


def test_an_unknown_engine_source_or_master_is_refused_in_one_line():
    for args, expected in (
        (("--engine", "sql,hive"), "--engine: one or more of sql, spark"),
        (("--spark-plays", "csv"), "--spark-plays: one or more of jdbc, parquet"),
        (("--spark-master", "yarn"), "--spark-master: local[*] or clusterN"),
    ):
        result = _bench(*args)
        assert result.returncode != 0
        assert expected in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
