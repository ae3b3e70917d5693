"""Benchmark of closing a month on MariaDB (issue 15).

Generates, straight into the database `paysystem_bench_close` with INSERT ... SELECT, a
month's figures for 100,000 sellers x 10 videos: 1,000,000 videos and, for each of two
months, 1,000,000 MONTHLY rows of period_video_stats, plus computed_days for every day of
both months (no plays: every day is computed and current, so the close's check passes).
Then it times two closes with services.settlement.closing.close_month, step by step:

  run A: close the first month (freeze 1M lines, 1M EARNING entries, payouts);
  then 1% of the first month's MONTHLY rows change (late data after the close);
  run B: close the second month (1M lines and entries again, plus the ADJUSTMENT pass
         over the first month's 1M rows against its 1M entries, and payouts).

The close's wait for readers of the published window (time.sleep(publication_delay_sec))
is not slept and not timed here; the bench prints how long it would have been. After each
close, the floor: one INSERT ... SELECT of the same month's 1M MONTHLY rows into an empty
copy table, timed in the same run, and the ratio floor / close (the machine's load moves
both alike).

    .venv/bin/python -m bench.bench_close                        # generate, then close twice
    .venv/bin/python -m bench.bench_close --reuse --runs 2       # keep the data, close again
    .venv/bin/python -m bench.bench_close --sellers 10000        # a smaller month

Target (issue 15): <= 20 s for a month of 1,000,000 lines on this 2-core machine.

Finance operations (issue 31): every seller has a payout profile (half INDIVIDUAL, half
BUSINESS, generated with the figures), so the close taxes every payout and writes a tax
invoice per business seller; after each close a second admin approves the month and the bank
transfer file is frozen (services/settlement/transfers.py). Each run prints the close alone,
the approval, the bank file and the whole sequence with its ratio to the close alone
(target: the sequence <= 2x the close alone) and to the floor. `--no-profiles` closes as
before issue 31 (every payout HELD, no approval, no file).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
import types
from zoneinfo import ZoneInfo

import sqlalchemy as sa

import migrations
from bench.bench_batch import SERVER, machine
from domain.periods import month_end, month_name
from services.common import db
from services.common.auth import Principal
from services.common.settings import Settings
from services.settlement import approvals, closing, transfers
from services.settlement.transfer_ports import TransferFile
from services.settlement.transfers_repository import SqlTransferUnitOfWork

MONTHS = (dt.date(2026, 10, 1), dt.date(2026, 11, 1))
CHANGED_EVERY = 100  # run B: one MONTHLY row in 100 of the first month changed after its close
CHANGE = "1.2345"
LEDGER_TABLES = (
    "ledger_entries",
    "payouts",
    "closed_lines",
    "month_closings",
    "frozen_daily_stats",
    "frozen_days",
    "tax_invoices",
    "transfer_files",
)
CLOSER = Principal(account_id=1, username="bench", role="ADMIN")
APPROVER = Principal(account_id=2, username="bench-checker", role="ADMIN")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sellers", type=int, default=100_000)
    p.add_argument("--videos-per-seller", type=int, default=10)
    p.add_argument("--database", default="paysystem_bench_close")
    p.add_argument("--server", default=SERVER, help="SQLAlchemy URL of the server (no database)")
    p.add_argument("--timezone", default="Asia/Seoul")
    p.add_argument("--reuse", action="store_true", help="keep the generated figures; empty the ledger and close again")
    p.add_argument("--runs", type=int, default=1, help="timed runs (each closes both months from an empty ledger)")
    p.add_argument("--no-profiles", action="store_true", help="no payout profiles: the close as before issue 31")
    return p.parse_args()


def _revenue_sql(month_index: int, v: str = "v") -> tuple[str, str]:
    """Deterministic per-video figures (KRW with 2 decimals): about 0-2,000 of video revenue
    and 0-500 of ad revenue; one video in 1,000 earns nothing (no line), one in 7 no ads."""
    a, b = (7919, 104729) if month_index == 0 else (6007, 99991)
    video = f"CASE WHEN {v} MOD 1000 = 0 THEN 0 ELSE ({v} * {a}) MOD 200000 / 100 END"
    ad = f"CASE WHEN {v} MOD 1000 = 0 OR {v} MOD 7 = 0 THEN 0 ELSE ({v} * {b}) MOD 50000 / 100 END"
    return video, ad


def generate(engine: sa.Engine, args: argparse.Namespace) -> None:
    videos = args.sellers * args.videos_per_seller
    per = args.videos_per_seller
    if videos > 1_000_000:
        raise SystemExit("at most 1,000,000 videos")
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE bench_digits (d INT NOT NULL PRIMARY KEY)"))
        conn.execute(sa.text("INSERT INTO bench_digits VALUES " + ", ".join(f"({d})" for d in range(1000))))
        # 1..videos from two copies of 0..999 (the bound on a.d prunes by its key).
        seq = (
            "SELECT a.d * 1000 + b.d + 1 AS v FROM bench_digits a, bench_digits b"
            f" WHERE a.d < {-(-videos // 1000)} AND a.d * 1000 + b.d < {videos}"
        )
        conn.execute(
            sa.text(
                "INSERT INTO videos (video_id, seller_id, title, duration_sec, created_at_us)"
                f" SELECT v, (v - 1) DIV {per} + 1, 'bench', 60 + v MOD 3540, 0 FROM ({seq}) s"
            )
        )
        t1 = time.perf_counter()
        for i, month in enumerate(MONTHS):
            video, ad = _revenue_sql(i)
            conn.execute(
                sa.text(
                    "INSERT INTO period_video_stats (period, period_start, video_id, seller_id, views,"
                    " watch_time_sec, ad_views, video_revenue, ad_revenue)"
                    f" SELECT 'MONTHLY', :month, v, (v - 1) DIV {per} + 1, 1 + v MOD 500, 60 * (1 + v MOD 500),"
                    f" (1 + v MOD 500) DIV 3, {video}, {ad} FROM ({seq}) s"
                ).bindparams(sa.bindparam("month", type_=sa.Date)),
                {"month": month},
            )
            day = month
            rows = []
            while day <= month_end(month):
                rows.append({"day": day})
                day += dt.timedelta(days=1)
            conn.execute(
                sa.text(
                    "INSERT INTO computed_days (day, play_id_watermark, plays_read, computed_at_us)"
                    " VALUES (:day, 0, 0, 0)"
                ).bindparams(sa.bindparam("day", type_=sa.Date)),
                rows,
            )
        conn.execute(sa.text("DROP TABLE bench_digits"))
    if not args.no_profiles:
        add_profiles(engine, args.sellers)
    t2 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE TABLE videos, period_video_stats"))
    print(f"generated {videos:,} videos in {t1 - t0:.1f} s; {2 * videos:,} MONTHLY rows in {t2 - t1:.1f} s")


def add_profiles(engine: sa.Engine, sellers: int) -> None:
    """A complete payout profile for sellers 1..`sellers`: odd ids INDIVIDUAL, even BUSINESS."""
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM payout_profiles"))
        conn.execute(
            sa.text(
                "INSERT INTO payout_profiles (seller_id, legal_name, tax_type, bank_code, account_number,"
                " business_number, updated_at_us)"
                " SELECT DISTINCT seller_id, CONCAT('bench seller ', seller_id),"
                " IF(seller_id MOD 2 = 1, 'INDIVIDUAL', 'BUSINESS'), '004', LPAD(seller_id, 12, '0'),"
                " IF(seller_id MOD 2 = 1, NULL, '1234567891'), 0 FROM videos WHERE seller_id <= :sellers"
            ),
            {"sellers": sellers},
        )
    print(f"generated {sellers:,} payout profiles in {time.perf_counter() - t0:.1f} s")


def approve_and_export(engine: sa.Engine, month: dt.date) -> tuple[float, float, TransferFile]:
    """The second admin's approval, then the bank transfer file frozen: seconds of each."""
    t0 = time.perf_counter()
    approvals.approve_month(closing.sql_unit_of_work(engine), APPROVER, month_name(month))
    t1 = time.perf_counter()
    file, _ = transfers.transfer_file(SqlTransferUnitOfWork(engine), APPROVER, month_name(month), 1)
    return t1 - t0, time.perf_counter() - t1, file


def reset(engine: sa.Engine, args: argparse.Namespace) -> None:
    """An empty ledger, and the first month's MONTHLY rows as generated."""
    video, _ = _revenue_sql(0, "video_id")
    with engine.begin() as conn:
        for table in LEDGER_TABLES:
            conn.execute(sa.text(f"TRUNCATE TABLE {table}"))
        conn.execute(
            sa.text(
                f"UPDATE period_video_stats SET video_revenue = {video}"
                f" WHERE period = 'MONTHLY' AND period_start = :month AND video_id MOD {CHANGED_EVERY} = 37"
            ).bindparams(sa.bindparam("month", type_=sa.Date)),
            {"month": MONTHS[0]},
        )


def change_first_month(engine: sa.Engine) -> int:
    with engine.begin() as conn:
        return conn.execute(
            sa.text(
                f"UPDATE period_video_stats SET video_revenue = video_revenue + {CHANGE}"
                f" WHERE period = 'MONTHLY' AND period_start = :month AND video_id MOD {CHANGED_EVERY} = 37"
            ).bindparams(sa.bindparam("month", type_=sa.Date)),
            {"month": MONTHS[0]},
        ).rowcount


def copy_floor(engine: sa.Engine, month: dt.date) -> float:
    """Seconds of one INSERT ... SELECT of the month's MONTHLY rows into an empty copy of
    closed_lines: the least any close that writes the month's lines could cost here."""
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS bench_floor_copy"))
        conn.execute(sa.text("CREATE TABLE bench_floor_copy LIKE closed_lines"))
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO bench_floor_copy (month, video_id, seller_id, views, ad_views, video_revenue, ad_revenue)"
                " SELECT period_start, video_id, seller_id, views, ad_views, video_revenue, ad_revenue"
                " FROM period_video_stats WHERE period = 'MONTHLY' AND period_start = :month"
            ).bindparams(sa.bindparam("month", type_=sa.Date)),
            {"month": month},
        )
    elapsed = time.perf_counter() - t0
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE bench_floor_copy"))
    return elapsed


def timed_close(engine: sa.Engine, month: dt.date, zone: ZoneInfo) -> tuple[closing.Closing, float, float]:
    """Closes the month; prints each step's time. Returns the closing, the seconds the close
    took without its publication wait, and that wait (not slept)."""
    marks: list[tuple[float, str]] = []
    waited: list[float] = []

    def progress(step: int, steps: int, what: str) -> None:
        marks.append((time.perf_counter(), f"{step}/{steps} {what}"))

    # close_month sleeps publication_delay_sec(...) at its end; record it instead.
    real_time = closing.time
    closing.time = types.SimpleNamespace(time_ns=time.time_ns, sleep=waited.append)
    try:
        t0 = time.perf_counter()
        result = closing.close_month(
            closing.sql_unit_of_work(engine), CLOSER, month_name(month), zone=zone, progress=progress
        )
        t1 = time.perf_counter()
    finally:
        closing.time = real_time
    marks.append((t1, "end"))
    starts = [(t0, "0 reading the closing")] + marks
    for (start, what), (end, _) in zip(starts, starts[1:], strict=False):
        label = what if what != "5/5 creating payouts" else "5/5 creating payouts, finishing the closing"
        print(f"    {label}: {end - start:.2f} s")
    return result, t1 - t0, sum(waited)


def sizes(engine: sa.Engine, database: str) -> None:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT table_name, table_rows, data_length, index_length FROM information_schema.tables"
                " WHERE table_schema = :s AND table_name IN ('period_video_stats', 'closed_lines', 'ledger_entries',"
                " 'payouts') ORDER BY table_name"
            ),
            {"s": database},
        ).all()
    for name, approx_rows, data, index in rows:
        print(f"  table {name}: ~{approx_rows:,} rows, data {data / 2**20:.0f} MiB, indexes {index / 2**20:.0f} MiB")


def main() -> None:
    args = parse_args()
    zone = ZoneInfo(args.timezone)
    server = sa.create_engine(args.server, isolation_level="AUTOCOMMIT")
    if not args.reuse:
        with server.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{args.database}`"))
            conn.execute(sa.text(f"CREATE DATABASE `{args.database}` CHARACTER SET utf8mb4"))
    engine = db.make_engine(Settings(db_url=f"{args.server}/{args.database}"), pool_size=2)
    migrations.migrate(engine)  # a reused database may predate the newest revision
    if not args.reuse:
        generate(engine, args)
    elif args.no_profiles:
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM payout_profiles"))
    else:
        add_profiles(engine, args.sellers)

    with engine.connect() as conn:
        version = conn.execute(sa.text("SELECT VERSION()")).scalar_one()
        pool_mb = conn.execute(sa.text("SELECT @@innodb_buffer_pool_size")).scalar_one() // 2**20
    print(
        f"machine: {machine()}; MariaDB {version}, innodb_buffer_pool_size {pool_mb} MiB;"
        f" load average {os.getloadavg()[0]:.1f}"
    )
    for run in range(args.runs):
        reset(engine, args)
        for label, month in zip("AB", MONTHS, strict=True):
            if label == "B":
                changed = change_first_month(engine)
                print(f"  changed {changed:,} MONTHLY rows of {month_name(MONTHS[0])} after its close")
            print(f"run {run + 1}{label}: closing {month_name(month)}")
            result, elapsed, wait = timed_close(engine, month, zone)
            finance = None if args.no_profiles else approve_and_export(engine, month)
            floor = copy_floor(engine, month)
            print(
                f"run {run + 1}{label}: {result.lines:,} lines of {result.sellers:,} sellers,"
                f" {result.adjustment_lines:,} adjustment lines, {result.payouts_created:,} payouts:"
                f" {elapsed:.2f} s, {result.lines / elapsed:,.0f} lines/s (publication wait {wait:.2f} s not"
                f" included); floor (one INSERT ... SELECT copy of the same MONTHLY rows) {floor:.2f} s,"
                f" ratio to floor {floor / elapsed:.2f}; load average {os.getloadavg()[0]:.1f}"
            )
            if finance is not None:
                approve, export, file = finance
                whole = elapsed + approve + export
                print(
                    f"run {run + 1}{label}: approval {approve:.2f} s, bank file ({file.rows:,} rows,"
                    f" {file.total_krw:,} KRW, sha256 {file.sha256[:12]}...) {export:.2f} s; close + approval +"
                    f" bank file {whole:.2f} s = {whole / elapsed:.2f}x the close alone (target <= 2x),"
                    f" {result.lines / whole:,.0f} lines/s, ratio to floor {floor / whole:.2f}"
                )
        sizes(engine, args.database)
    engine.dispose()
    server.dispose()


if __name__ == "__main__":
    main()
