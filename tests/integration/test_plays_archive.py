"""Archival of a closed, sealed month's plays (services/video/archive.py), on MariaDB and
SQLite: the month's figures read the same before and after (every statement, top-5 list and
series point, compared through the read path's own queries without the cache, whose hits would
prove nothing), the rows go and come back identical (a checksum over every column, computed
here), an open month is refused, and a late playback for the archived month is rejected at
ingest with its reason, counted, and leaves no trace. The archive is the month in the Parquet
history's layout (services/video/parquet_history.py), each day's checksum equal to the table's
before the archival, and read by the Spark engine as its Parquet source (a day computed from
it, on a local[2] session, gives the SQL engine's rows); a tampered day is refused, and so is
a tampered manifest; an archive of the
first format (gzip JSON lines, written here by hand as the old code wrote it) is still finished
and restored.

Plays are loaded as the ledger's tests load them (tests/plugins/ledger.py, play_event_ids
included); the late playback goes through the real ingest.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

import batch.steps
from batch.jobs.runner import JobRunner
from domain.errors import NotReady
from domain.periods import Period, day_bounds_us, period_bounds
from domain.plays import ARCHIVED_MONTH, Outcome, PlayEvent
from services.account.tables import accounts
from services.audit.tables import audit_log
from services.common.auth import Principal
from services.settlement import service as settlement
from services.settlement.repository import SqlStatementReader
from services.statistics import repository as stats
from services.video import archive, parquet_history, play_counts
from services.video.ingest import Ingest, sql_play_log
from services.video.tables import archived_months, play_event_ids, plays
from tests.plugins.jobs import SEOUL
from tests.plugins.ledger import FEB, JAN, SELLERS, TODAY, VIDEOS, World, days_of, month_plays, reset_ledger

SELLER_IDS = sorted({1_000_000 + v % SELLERS for v in VIDEOS})
WEEKS = sorted({period_bounds(Period.WEEKLY, d)[0] for d in days_of(JAN)})
LATE_VIEWER = 7_000_001
REJECTED_METRIC = "paysystem_ingest_rejected_archived_total"


@pytest.fixture
def world(module_engine):
    reset_ledger(module_engine)
    return World(module_engine)


def across_midnight() -> list[dict]:
    """Jan 31 23:59:50 and Feb 1 00:00:10 by one viewer of one video: the February play is a
    repeat only if the batch still sees the January one (the evening the archive keeps)."""
    feb_start = day_bounds_us(FEB, SEOUL)[0]
    base = {"video_id": VIDEOS[0], "viewer_id": 555, "start": 0, "end": 100}
    return [
        {**base, "event_id": "mid-jan", "started_at_us": feb_start - 10_000_000, "local_day": JAN.replace(day=31)},
        {**base, "event_id": "mid-feb", "started_at_us": feb_start + 10_000_000, "local_day": FEB},
    ]


def month_rows_checksum(engine, month: dt.date) -> tuple[int, str]:
    """(count, sha256) over every column of the month's plays, in play_id order."""
    first, last = month, days_of(month)[-1]
    digest, count = hashlib.sha256(), 0
    with engine.connect() as conn:
        for row in conn.execute(
            sa.select(plays).where(plays.c.local_day >= first, plays.c.local_day <= last).order_by(plays.c.play_id)
        ):
            digest.update(json.dumps([str(v) for v in row]).encode())
            count += 1
    return count, digest.hexdigest()


def figures(engine, month: dt.date) -> dict:
    """Every statement, top-5 list and series point of the month, as the read path reads them."""
    days = days_of(month)
    out: dict = {}
    with engine.connect() as conn:
        reader = SqlStatementReader(conn)
        for seller in SELLER_IDS:
            for day in days:
                out["stmt-d", seller, day] = settlement.read_statement(reader, seller, Period.DAILY, day, day, None)
            for week in WEEKS:
                start, end = period_bounds(Period.WEEKLY, week)
                out["stmt-w", seller, week] = settlement.read_statement(reader, seller, Period.WEEKLY, start, end, None)
            start, end = period_bounds(Period.MONTHLY, month)
            out["stmt-m", seller] = settlement.read_statement(reader, seller, Period.MONTHLY, start, end, None)
            for metric in ("VIEWS", "WATCH_TIME"):
                for period, starts in ((Period.DAILY, days), (Period.WEEKLY, WEEKS), (Period.MONTHLY, [month])):
                    for start in starts:
                        out["top", seller, metric, period, start] = [
                            tuple(r) for r in stats.top_videos(conn, seller, period, start, metric)
                        ]
            for period in (Period.DAILY, Period.WEEKLY, Period.MONTHLY):
                out["sseries", seller, period] = [
                    tuple(r) for r in stats.seller_series(conn, seller, period, days[0], days[-1])
                ]
        for video in VIDEOS:
            # Audience retention: figures, not history (docs/statistics_settlement.md).
            out["retention", video] = sorted(tuple(r) for r in stats.daily_retention(conn, video, days[0], days[-1]))
            out["vseries-d", video] = {
                d: tuple(r) for d, r in stats.daily_series(conn, video, days[0], days[-1]).items()
            }
            for period, starts in ((Period.WEEKLY, WEEKS), (Period.MONTHLY, [month])):
                out["vseries", video, period] = {
                    d: tuple(r) for d, r in stats.period_series(conn, video, period, starts).items()
                }
    return out


def feb_first_figures(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in stats.daily_series(conn, VIDEOS[0], FEB, FEB).values()]


def runner(engine) -> JobRunner:
    return JobRunner(engine, zone=SEOUL, workers=2, steps=batch.steps, progress_interval_sec=0.2)


def late_playback_is_rejected(engine, event_id: str) -> None:
    with engine.begin() as conn:
        if conn.execute(sa.select(accounts.c.account_id).where(accounts.c.account_id == LATE_VIEWER)).first() is None:
            conn.execute(
                sa.insert(accounts).values(
                    account_id=LATE_VIEWER,
                    username=f"late{LATE_VIEWER}",
                    password_hash="x",
                    role="VIEWER",
                    created_at_us=0,
                )
            )
    with engine.connect() as conn:
        counts_before = play_counts.per_day(conn)
    before = REGISTRY.get_sample_value(REJECTED_METRIC) or 0.0
    started = day_bounds_us(JAN.replace(day=15), SEOUL)[0] + 3_600_000_000
    ingest = Ingest(sql_play_log(engine), SEOUL)
    fresh = PlayEvent(f"{event_id}-ok", VIDEOS[1], LATE_VIEWER, day_bounds_us(FEB.replace(day=20), SEOUL)[0], 0, 50)
    results = ingest.record_plays(
        Principal(9, "ingest", "INGEST"), [PlayEvent(event_id, VIDEOS[1], LATE_VIEWER, started, 0, 50), fresh]
    )
    assert [(r.outcome, r.reason) for r in results] == [(Outcome.REJECTED, ARCHIVED_MONTH), (Outcome.STORED, "")]
    assert (REGISTRY.get_sample_value(REJECTED_METRIC) or 0.0) == before + 1
    with engine.connect() as conn:
        assert conn.execute(sa.select(plays.c.play_id).where(plays.c.event_id == event_id)).first() is None
        assert conn.execute(sa.select(play_event_ids).where(play_event_ids.c.event_id == event_id)).first() is None
        counts_after = play_counts.per_day(conn)
    feb_20 = FEB.replace(day=20)
    assert counts_after == {**counts_before, feb_20: counts_before.get(feb_20, 0) + 1}  # only the good one


DAILY_FIGURES = (
    "SELECT video_id, seller_id, views, watch_time_sec, ad_views, cum_views, cum_ad_views, video_revenue,"
    " ad_revenue, plays, excluded_self_view, excluded_overlap, excluded_repeat, excluded_cap,"
    " excluded_stream_limit FROM daily_video_stats WHERE day = :day ORDER BY video_id"
)


def daily_figures(engine_or_conn, day: dt.date) -> list[tuple]:
    if isinstance(engine_or_conn, sa.Engine):
        with engine_or_conn.connect() as conn:
            return daily_figures(conn, day)
    query = sa.text(DAILY_FIGURES).bindparams(sa.bindparam("day", type_=sa.Date))
    return [tuple(r) for r in engine_or_conn.execute(query, {"day": day})]


def spark_day_from(engine, folder, day: dt.date, settings) -> tuple:
    """(StepCounts, daily rows) of `day` as the Spark engine computes them with the plays read
    from the Parquet history `folder`, its previous rows deleted first; all rolled back."""
    import batch.spark.steps

    batch.spark.steps.configure(settings.model_copy(update={"spark_plays": f"parquet:{folder}"}))
    try:
        with engine.connect() as conn:
            with conn.begin() as transaction:
                query = sa.text("DELETE FROM daily_video_stats WHERE day = :day").bindparams(
                    sa.bindparam("day", type_=sa.Date)
                )
                conn.execute(query, {"day": day})
                lo, hi = batch.steps.video_id_bounds(conn)
                counts = batch.spark.steps.compute_day_partition(conn, day, lo, hi, zone=SEOUL)
                rows = daily_figures(conn, day)
                transaction.rollback()
    finally:
        batch.spark.steps.configure(settings)
    return counts, rows


def audited(engine: sa.Engine) -> list[tuple[str, str]]:
    """(action, target) of every audit log entry."""
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.select(audit_log.c.action, audit_log.c.target))]


@pytest.mark.parametrize("module_engine", ["mariadb", "sqlite"], indirect=True)
def test_an_archived_month_reads_the_same_restores_identical_and_refuses_late_data(world, tmp_path, spark_settings):
    engine = world.engine
    world.ingest(month_plays(JAN, 12, "j", seed=3) + month_plays(FEB, 4, "f", seed=4) + across_midnight())
    world.run_batch()
    with pytest.raises(archive.MonthNotArchivable, match="not closed"):
        archive.archive_month(engine, JAN, tmp_path, zone=SEOUL)
    world.close(JAN)
    with pytest.raises(archive.MonthNotArchivable, match="not closed"):  # February is open
        archive.archive_month(engine, FEB, tmp_path, zone=SEOUL)
    before = figures(engine, JAN)
    assert sum(len(before["retention", video]) for video in VIDEOS) > 31  # kept through archive and restore
    feb_first = feb_first_figures(engine)
    rows_before = month_rows_checksum(engine, JAN)
    assert rows_before[0] == 12 * 31 + 1
    digests = [parquet_history.table_digest(engine, day) for day in days_of(JAN)]

    result = archive.archive_month(engine, JAN, tmp_path, zone=SEOUL)

    assert result.changed and result.plays == rows_before[0] and result.path.is_dir()
    assert result.path == tmp_path / "plays-2012-01" and parquet_history.verify(result.path) == digests
    assert result.sha256 == parquet_history.month_sha256(digests)
    assert parquet_history.stored_days(result.path) == days_of(JAN)
    # The archive's folder is a Parquet history the Spark engine reads: a day whose plays
    # left the table, computed from it, gives the rows the SQL engine computed from the table.
    mid_january = JAN.replace(day=15)
    counts, rows = spark_day_from(engine, result.path, mid_january, spark_settings)
    assert counts.rows_read == digests[14].rows > 0
    assert rows == daily_figures(engine, mid_january)
    assert figures(engine, JAN) == before
    left, _ = month_rows_checksum(engine, JAN)
    assert left == result.kept_plays and 1 <= left < 12  # the last evening's plays only
    with engine.connect() as conn:
        assert conn.execute(
            sa.select(play_event_ids.c.event_id).where(play_event_ids.c.event_id == "j00000000")
        ).first()
        assert batch.steps.days_to_compute(conn, through=TODAY) == []
    # The next month's first day, recomputed, still sees January's last evening.
    runs_before = audited(engine).count(("batch.run", "job:daily"))
    events = list(runner(engine).run("daily", FEB, FEB, rerun=True, today=TODAY))
    assert events[-1].type.name == "JOB_FINISHED", events[-1]
    assert feb_first_figures(engine) == feb_first
    with pytest.raises(NotReady, match="archived month"):
        runner(engine).run("daily", JAN.replace(day=30), FEB, rerun=True, today=TODAY)
    assert archive.archive_month(engine, JAN, tmp_path, zone=SEOUL).changed is False  # idempotent
    # The audit log: one entry for the archival (none for the re-run), one for the batch run
    # that started (none for the refused one).
    assert audited(engine).count(("month.archive", "month:2012-01")) == 1
    assert audited(engine).count(("batch.run", "job:daily")) == runs_before + 1

    late_playback_is_rejected(engine, "late-into-january")
    assert figures(engine, JAN) == before

    restored = archive.restore_month(engine, JAN, tmp_path)

    assert restored.status == "RESTORED"
    assert month_rows_checksum(engine, JAN) == rows_before
    assert figures(engine, JAN) == before
    with engine.connect() as conn:
        assert conn.execute(sa.select(archived_months)).first() is None
    assert archive.restore_month(engine, JAN, tmp_path).changed is False


@pytest.mark.parametrize("module_engine", ["mariadb"], indirect=True)
def test_an_archive_file_that_does_not_match_its_checksum_is_refused_and_nothing_changes(world, tmp_path):
    engine = world.engine
    world.ingest(month_plays(JAN, 3, "c", seed=5))
    world.run_batch()
    world.close(JAN)
    archive.archive_month(engine, JAN, tmp_path, zone=SEOUL)
    path = archive.archive_path(tmp_path, JAN)
    part = parquet_history.day_folder(path, JAN.replace(day=7)) / "part-0.parquet"
    original = part.read_bytes()
    day = pq.read_table(part)
    pq.write_table(day.slice(0, day.num_rows - 1), part)  # one play short
    left = month_rows_checksum(engine, JAN)
    with pytest.raises(archive.ArchiveMismatch, match="sha256"):
        archive.restore_month(engine, JAN, tmp_path)
    # The manifest changed to match: the month's checksum in archived_months still refuses it.
    manifest_path = path / parquet_history.MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["days"]["2012-01-07"] = {
        "rows": day.num_rows - 1,
        "sha256": parquet_history.files_digest(path, JAN.replace(day=7)).sha256,
    }
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(archive.ArchiveMismatch, match="the archive recorded"):
        archive.restore_month(engine, JAN, tmp_path)
    assert month_rows_checksum(engine, JAN) == left
    with engine.connect() as conn:
        assert conn.execute(sa.select(archived_months.c.status)).scalar_one() == archive.ARCHIVED
    part.write_bytes(original)  # a wrong manifest entry alone is refused too
    with pytest.raises(archive.ArchiveMismatch, match="_manifest.json says"):
        archive.restore_month(engine, JAN, tmp_path)


def write_first_format(engine, month: dt.date, directory) -> tuple[str, str, int]:
    """The month's plays as the first archive format held them, written here from the format's
    description (archive_jsonl.py): (file name, sha256 of the uncompressed bytes, plays)."""
    first, last = month, days_of(month)[-1]
    digest, count, lines = hashlib.sha256(), 0, []
    with engine.connect() as conn:
        for row in conn.execute(
            sa.select(plays).where(plays.c.local_day >= first, plays.c.local_day <= last).order_by(plays.c.play_id)
        ):
            values = [v.isoformat() if isinstance(v, dt.date) else (v if isinstance(v, str) else int(v)) for v in row]
            line = (json.dumps(values, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
            digest.update(line)
            lines.append(line)
            count += 1
    name = f"plays-{month:%Y-%m}.jsonl.gz"
    (directory / name).write_bytes(gzip.compress(b"".join(lines), mtime=0))
    return name, digest.hexdigest(), count


@pytest.mark.parametrize("module_engine", ["mariadb", "sqlite"], indirect=True)
def test_an_archive_of_the_first_format_is_still_finished_and_restored(world, tmp_path):
    engine = world.engine
    world.ingest(month_plays(JAN, 6, "g", seed=12) + month_plays(FEB, 2, "m", seed=13) + across_midnight())
    world.run_batch()
    world.close(JAN)
    before = figures(engine, JAN)
    rows_before = month_rows_checksum(engine, JAN)
    name, sha256, count = write_first_format(engine, JAN, tmp_path)
    with engine.begin() as conn:  # as the old code left it when killed before its first delete
        conn.execute(
            sa.insert(archived_months).values(
                month=JAN, status=archive.DELETING, file_name=name, sha256=sha256, plays=count, marked_at_us=1
            )
        )

    finished = archive.archive_month(engine, JAN, tmp_path, zone=SEOUL)  # goes on from the old file

    assert finished.changed and finished.path == archive.jsonl_archive_path(tmp_path, JAN)
    assert (finished.plays, finished.sha256) == (count, sha256) and 1 <= finished.kept_plays < 6
    assert month_rows_checksum(engine, JAN)[0] == finished.kept_plays
    assert figures(engine, JAN) == before
    assert archive.archive_month(engine, JAN, tmp_path, zone=SEOUL).path.name == name  # idempotent

    restored = archive.restore_month(engine, JAN, tmp_path)

    assert restored.status == "RESTORED" and restored.path.name == name
    assert month_rows_checksum(engine, JAN) == rows_before
    with engine.connect() as conn:
        assert conn.execute(sa.select(archived_months)).first() is None
    # Archived again, it is written in the Parquet layout, and restores identical from there.
    again = archive.archive_month(engine, JAN, tmp_path, zone=SEOUL)
    assert again.path == archive.archive_path(tmp_path, JAN) and again.plays == count
    archive.restore_month(engine, JAN, tmp_path)
    assert month_rows_checksum(engine, JAN) == rows_before


@pytest.mark.parametrize("module_engine", ["mariadb"], indirect=True)
def test_a_month_is_not_archived_before_the_months_before_it(world, tmp_path):
    world.ingest(month_plays(JAN, 2, "o", seed=6) + month_plays(FEB, 2, "p", seed=7))
    world.run_batch()
    world.close(JAN)
    world.close(FEB)
    with pytest.raises(archive.MonthNotArchivable, match="oldest first"):
        archive.archive_month(world.engine, FEB, tmp_path, zone=SEOUL)
    with world.engine.connect() as conn:
        assert conn.execute(sa.select(archived_months)).first() is None


class Killed(Exception):
    """Stands for the process dying between two delete transactions."""


def kill_at_delete(engine, nth: int):
    """From the `nth` DELETE on `plays` on, every statement of `engine` fails (the archival's
    process is gone); returns the listener, to remove it (the process started again)."""
    seen = {"deletes": 0}

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("DELETE FROM PLAYS"):
            seen["deletes"] += 1
        if seen["deletes"] >= nth:
            raise Killed(statement[:40])

    sa.event.listen(engine, "before_cursor_execute", before)
    return before


@pytest.mark.parametrize("module_engine", ["mariadb", "sqlite"], indirect=True)
def test_an_archival_killed_while_deleting_is_finished_or_undone_by_running_again(world, tmp_path):
    engine = world.engine
    world.ingest(month_plays(JAN, 12, "k", seed=8) + month_plays(FEB, 2, "l", seed=9))
    world.run_batch()
    world.close(JAN)
    before = figures(engine, JAN)
    rows_before = month_rows_checksum(engine, JAN)
    batch_rows = 40  # 373 plays: ten pages, ten delete transactions

    listener = kill_at_delete(engine, 3)
    with pytest.raises(Killed):
        archive.archive_month(engine, JAN, tmp_path, zone=SEOUL, batch_rows=batch_rows)
    sa.event.remove(engine, "before_cursor_execute", listener)

    left, _ = month_rows_checksum(engine, JAN)
    assert rows_before[0] - 2 * batch_rows <= left < rows_before[0]  # two batches deleted, then the kill
    with engine.connect() as conn:
        assert conn.execute(sa.select(archived_months.c.status)).scalar_one() == archive.DELETING
    late_playback_is_rejected(engine, "late-into-deleting-january")  # still refused meanwhile
    assert figures(engine, JAN) == before

    restored = archive.restore_month(engine, JAN, tmp_path, batch_rows=batch_rows)  # undone
    assert restored.status == "RESTORED"
    assert month_rows_checksum(engine, JAN) == rows_before

    listener = kill_at_delete(engine, 5)
    with pytest.raises(Killed):
        archive.archive_month(engine, JAN, tmp_path, zone=SEOUL, batch_rows=batch_rows)
    sa.event.remove(engine, "before_cursor_execute", listener)
    finished = archive.archive_month(engine, JAN, tmp_path, zone=SEOUL, batch_rows=batch_rows)  # finished

    assert finished.changed and finished.plays == rows_before[0]
    left, _ = month_rows_checksum(engine, JAN)
    assert left == finished.kept_plays < 12
    with engine.connect() as conn:
        assert conn.execute(sa.select(archived_months.c.status)).scalar_one() == archive.ARCHIVED
    assert figures(engine, JAN) == before
    archive.restore_month(engine, JAN, tmp_path, batch_rows=batch_rows)
    assert month_rows_checksum(engine, JAN) == rows_before
