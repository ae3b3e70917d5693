"""Database fixtures for the batch step tests: a fresh migrated database per test module,
on MariaDB (root@127.0.0.1) and on SQLite, plus a small helper to write rows directly."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

import batch.steps
from batch.steps import (
    current_play_watermark,
    days_to_compute,
    finish_day,
    video_id_bounds,
)
from batch.tables import RULE_EXCLUSION_COLUMNS, video_daily_retention
from domain.periods import local_day_of
from domain.retention import decode_points
from services.common.sqltypes import Money
from services.video import play_counts
from tests import event_ids
from tests.databases import fresh_engine
from tests.plugins.jobs import DATA_TABLES
from tests.reference import (
    DailyRow,
    PeriodRow,
    Play,
    Seed,
    TierRow,
    Video,
    compute_daily,
    compute_periods,
    compute_retention,
)

SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture(scope="module", params=["mariadb", "sqlite"])
def batch_engine(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("batch")
    with fresh_engine(request.param, "paysystem_b1_", tmp) as engine:
        yield engine


@pytest.fixture
def batch_db(batch_engine):
    """A BatchData over the module's database, emptied before each test."""
    data = BatchData(batch_engine)
    data.clear()
    return data


class BatchData:
    """Writes videos, plays, seeds and tiers with plain SQL, runs the daily step, reads back."""

    TABLES = DATA_TABLES

    def __init__(self, engine: sa.Engine, zone: ZoneInfo = SEOUL, steps: ModuleType = batch.steps):
        self.engine = engine
        self.zone = zone
        self.steps = steps  # the engine: batch.steps (SQL) or batch.spark.steps

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def clear(self) -> None:
        with self.engine.begin() as conn:
            for table in self.TABLES:
                conn.execute(sa.text(f"DELETE FROM {table}"))

    def add_videos(self, videos: list[Video]) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO videos (video_id, seller_id, title, duration_sec, created_at_us)"
                    " VALUES (:video_id, :seller_id, 'v', :duration_sec, 0)"
                ),
                [vars(v) for v in videos],
            )

    def add_plays(
        self, plays: list[Play], *, local_day: dt.date | None = None, conn: sa.Connection | None = None
    ) -> None:
        """Inserts in list order (play_id follows arrival); local_day from started_at unless
        forced (to write a deliberately inconsistent row). With `conn`, in its transaction."""
        if not plays:
            return
        if conn is None:
            with self.engine.begin() as own:
                self.add_plays(plays, local_day=local_day, conn=own)
            return
        rows = [{**vars(p), "local_day": local_day or local_day_of(p.started_at_us, self.zone)} for p in plays]
        conn.execute(
            sa.text(
                "INSERT INTO plays (event_id, video_id, viewer_id, started_at_us, local_day,"
                " start_position_sec, end_position_sec, received_at_us) VALUES (:event_id,"
                " :video_id, :viewer_id, :started_at_us, :local_day, :start_position_sec,"
                " :end_position_sec, 0)"
            ).bindparams(sa.bindparam("local_day", type_=sa.Date)),
            rows,
        )
        event_ids.record(conn, rows)
        play_counts.add(conn, Counter(r["local_day"] for r in rows), slot=0)  # as ingest does

    def add_many_views(self, video_id: int, count: int, started_at_us: int) -> None:
        """`count` plays of distinct viewers (ids 10^9 + 1..count) generated inside the database."""
        numbers = (
            f"SELECT seq AS n FROM seq_1_to_{int(count)}"
            if self.backend != "sqlite"
            else f"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {int(count)})"
            " SELECT n FROM s"
        )
        from domain.periods import local_day_of as day_of

        concat = (
            "('gen-' || :video_id || '-' || g.n)" if self.backend == "sqlite" else "CONCAT('gen-', :video_id, '-', g.n)"
        )

        with self.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO plays (event_id, video_id, viewer_id, started_at_us, local_day,"
                    " start_position_sec, end_position_sec, received_at_us)"
                    f" SELECT {concat}, :video_id, 1000000000 + g.n, :started, :day,"
                    f" 0, 0, 0 FROM ({numbers}) g" + (" WHERE 1 = 1" if self.backend == "sqlite" else "")
                ).bindparams(sa.bindparam("day", type_=sa.Date)),
                {"video_id": video_id, "started": started_at_us, "day": day_of(started_at_us, self.zone)},
            )
            event_ids.copy_event_ids(conn, "p.video_id = :video_id", {"video_id": video_id})
            play_counts.recount(conn, [day_of(started_at_us, self.zone)])

    def add_seeds(self, seeds: dict[int, Seed], sellers: dict[int, int]) -> None:
        """Prior daily rows carrying running totals (as if computed long ago)."""
        with self.engine.begin() as conn:
            for video_id, seed in seeds.items():
                conn.execute(
                    sa.text(
                        "INSERT INTO daily_video_stats (video_id, day, seller_id, views,"
                        " watch_time_sec, ad_views, cum_views, cum_ad_views, video_revenue,"
                        " ad_revenue) VALUES (:v, :day, :s, 0, 0, 0, :cv, :ca, 0, 0)"
                    ).bindparams(sa.bindparam("day", type_=sa.Date)),
                    {
                        "v": video_id,
                        "day": seed.day,
                        "s": sellers[video_id],
                        "cv": seed.cum_views,
                        "ca": seed.cum_ad_views,
                    },
                )

    def set_tiers(self, tiers: list[TierRow]) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM tier_prices"))
            conn.execute(
                sa.text(
                    "INSERT INTO tier_prices (kind, effective_from, lower_bound, unit_price)"
                    " VALUES (:kind, :effective_from, :lower_bound, :unit_price)"
                ).bindparams(
                    sa.bindparam("effective_from", type_=sa.Date),
                    sa.bindparam("unit_price", type_=Money(12)),
                ),
                [vars(t) for t in tiers],
            )

    def compute_day(self, day: dt.date, partitions: int = 2) -> tuple[int, int]:
        """The caller's protocol for one day: watermark, partitions, finish_day."""
        with self.engine.connect() as conn:
            watermark = current_play_watermark(conn)
            lo, hi = video_id_bounds(conn)
        rows_read = rows_written = 0
        with self.engine.begin() as conn:
            streams = self.steps.compute_stream_limit(conn, day, zone=self.zone)  # the viewer-keyed step, first
        step = max(1, -(-(hi - lo) // partitions))
        for start in range(lo, hi, step):
            with self.engine.begin() as conn:
                counts = self.steps.compute_day_partition(
                    conn, day, start, min(hi, start + step), zone=self.zone, job_execution_id=7
                )
            rows_read += counts.rows_read
            rows_written += counts.rows_written
        with self.engine.begin() as conn:
            plays_read = min(rows_read, streams.plays_read)
            finish_day(conn, day, play_id_watermark=watermark, plays_read=plays_read, job_execution_id=7)
        return rows_read, rows_written

    def days_to_compute(self, through: dt.date) -> list[dt.date]:
        with self.engine.connect() as conn:
            return days_to_compute(conn, through=through)

    def run_pending(self, through: dt.date = dt.date(2100, 1, 1)) -> list[dt.date]:
        days = self.days_to_compute(through)
        for day in days:
            self.compute_day(day)
        return days

    def assert_arrivals_equal_the_reference(self, videos: list[Video], arrivals: list[list[Play]]) -> None:
        """Stores `videos`, then each batch of `arrivals` followed by a run of every pending day
        (so a later batch is late data for days already computed), and asserts that the daily,
        weekly and monthly rows equal tests/reference.py's over all the plays."""
        self.clear()
        self.add_videos(videos)
        for arrival in arrivals:
            self.add_plays(arrival)
            self.run_pending()
        assert self.days_to_compute(dt.date(2100, 1, 1)) == []
        expected = compute_daily(videos, [play for arrival in arrivals for play in arrival], self.zone)
        assert self.daily_rows() == expected
        for period in ("WEEKLY", "MONTHLY"):
            assert self.period_rows(period) == compute_periods(expected, period)
        plays = [play for arrival in arrivals for play in arrival]
        assert self.retention_rows() == compute_retention(videos, plays, self.zone)

    def daily_rows(self, *, exclude_days: set[dt.date] = frozenset()) -> dict:
        with self.engine.connect() as conn:
            result = conn.execute(
                sa.select(
                    *[
                        sa.column(c)
                        for c in (
                            "video_id",
                            "seller_id",
                            "views",
                            "watch_time_sec",
                            "ad_views",
                            "cum_views",
                            "cum_ad_views",
                            *RULE_EXCLUSION_COLUMNS,
                        )
                    ],
                    sa.column("day", sa.Date),
                    sa.column("video_revenue", Money()),
                    sa.column("ad_revenue", Money()),
                ).select_from(sa.table("daily_video_stats"))
            )
            rows = {}
            for r in result:
                if r.day in exclude_days:
                    continue
                rows[(r.video_id, r.day)] = DailyRow(
                    video_id=r.video_id,
                    day=r.day,
                    seller_id=r.seller_id,
                    views=r.views,
                    watch_time_sec=r.watch_time_sec,
                    ad_views=r.ad_views,
                    cum_views=r.cum_views,
                    cum_ad_views=r.cum_ad_views,
                    video_revenue=Decimal(r.video_revenue),
                    ad_revenue=Decimal(r.ad_revenue),
                    **{c: getattr(r, c) for c in RULE_EXCLUSION_COLUMNS},
                )
            return rows

    def retention_rows(self) -> dict[tuple[int, dt.date], tuple[int, tuple[int, ...]]]:
        """video_daily_retention as reference.compute_retention gives it: (views, points)."""
        with self.engine.connect() as conn:
            result = conn.execute(sa.select(video_daily_retention))
            return {(r.video_id, r.day): (r.views, decode_points(r.point_deltas)) for r in result}

    def period_rows(self, period: str) -> dict:
        with self.engine.connect() as conn:
            result = conn.execute(
                sa.select(
                    *[
                        sa.column(c)
                        for c in (
                            "period",
                            "video_id",
                            "seller_id",
                            "views",
                            "watch_time_sec",
                            "ad_views",
                            *RULE_EXCLUSION_COLUMNS,
                        )
                    ],
                    sa.column("period_start", sa.Date),
                    sa.column("video_revenue", Money()),
                    sa.column("ad_revenue", Money()),
                )
                .select_from(sa.table("period_video_stats"))
                .where(sa.column("period") == period)
            )
            return {
                (r.period_start, r.video_id): PeriodRow(
                    period=r.period,
                    period_start=r.period_start,
                    video_id=r.video_id,
                    seller_id=r.seller_id,
                    views=r.views,
                    watch_time_sec=r.watch_time_sec,
                    ad_views=r.ad_views,
                    video_revenue=Decimal(r.video_revenue),
                    ad_revenue=Decimal(r.ad_revenue),
                    **{c: getattr(r, c) for c in RULE_EXCLUSION_COLUMNS},
                )
                for r in result
            }

    def table_snapshot(self, table: str) -> list[tuple]:
        with self.engine.connect() as conn:
            return sorted(tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {table}")))
