"""The in-memory readers (tests/fakes/figures.py) answer as the SQL adapters do
(services/statistics/repository.SqlStatisticsReader, services/settlement/repository.
SqlStatementReader): the same figures and the same reads against both, on MariaDB and SQLite,
must give equal answers (a seller's series parts, in no set order, compared sorted)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from batch.tables import daily_video_stats, frozen_daily_stats, frozen_days, period_video_stats, video_daily_retention
from domain.ledger import EntryKind
from domain.periods import Period
from domain.retention import deltas_of, encode_deltas
from services.settlement.ports import StatementReader
from services.settlement.repository import SqlStatementReader
from services.settlement.tables import closed_lines, ledger_entries, month_closings
from services.statistics.ports import StatisticsReader
from services.statistics.repository import SqlStatisticsReader
from services.video.tables import videos
from tests.databases import fresh_engine
from tests.fakes.figures import FROZEN_COLUMNS, FakeFigures, FakeStatementReader, FakeStatisticsReader, figures

JAN, FEB, MAR, APR = dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1), dt.date(2026, 4, 1)
D = dt.date(2026, 3, 3)
F = dt.date(2026, 2, 10)  # closed, recomputed since
WEEKS = [dt.date(2026, 2, 9), dt.date(2026, 2, 23), dt.date(2026, 3, 2)]


def world() -> FakeFigures:
    data = FakeFigures(
        videos={1: (7, "Cats"), 2: (7, "Dogs"), 3: (7, "Owls"), 4: (7, "Bats"), 9: (8, "Other")},
        closed={JAN: 1_000, FEB: 2_000},
    )
    on_d = [(1, 10, 100, "1000.9999"), (2, 30, 50, "499.5"), (3, 10, 300, "0"), (4, 0, 0, "0"), (5, 30, 10, "0.0001")]
    for video, views, watch, revenue in on_d:  # video 5 has no video row
        data.daily[D, video] = (
            7,
            figures(views=views, watch_time_sec=watch, video_revenue=revenue, ad_revenue="0.0002"),
        )
    data.daily[D, 4] = (7, figures())
    data.daily[D, 9] = (8, figures(views=100, watch_time_sec=1000, video_revenue="7", plays=101, excluded_cap=1))
    data.daily[F, 1] = (7, figures(views=10, watch_time_sec=100, video_revenue="5", plays=11, excluded_repeat=1))
    data.daily[F, 2] = (7, figures(views=2, watch_time_sec=20, video_revenue="1", plays=2))
    data.daily[F + dt.timedelta(days=1), 1] = (7, figures(views=3, watch_time_sec=30, video_revenue="1.5", plays=3))
    data.daily[dt.date(2026, 2, 28), 1] = (7, figures(views=3, video_revenue="1.25"))
    data.daily[MAR, 2] = (7, figures(views=1, ad_views=1, ad_revenue="0.0001"))
    data.frozen_days.add(F)
    data.frozen_days.add(dt.date(2026, 1, 20))  # no copy for seller 7
    data.frozen_daily[F, 1] = (7, figures(FROZEN_COLUMNS, views=8, video_revenue="4"))
    data.frozen_daily[dt.date(2026, 1, 20), 9] = (8, figures(FROZEN_COLUMNS, views=1, video_revenue="0.5"))
    for (period, start, video), f in {
        (Period.MONTHLY, JAN, 1): figures(views=5, watch_time_sec=50, video_revenue="1.5", plays=6),
        (Period.MONTHLY, FEB, 1): figures(views=100, watch_time_sec=1000, ad_views=10, video_revenue="50.5", plays=120),
        (Period.MONTHLY, FEB, 2): figures(views=40, watch_time_sec=400, video_revenue="20", plays=40),
        (Period.MONTHLY, MAR, 1): figures(views=7, watch_time_sec=70, video_revenue="3.5", ad_revenue="1", plays=7),
        (Period.WEEKLY, WEEKS[0], 1): figures(views=13, watch_time_sec=130, video_revenue="6.5", plays=14),
        (Period.WEEKLY, WEEKS[0], 2): figures(views=2, watch_time_sec=20, video_revenue="1", plays=2),
        (Period.WEEKLY, WEEKS[2], 1): figures(views=10, watch_time_sec=100, video_revenue="2", excluded_self_view=4),
    }.items():
        data.periods[period, start, video] = (7, f)
    data.periods[Period.MONTHLY, MAR, 9] = (8, figures(views=100, watch_time_sec=1000, video_revenue="7"))
    data.closed_lines[FEB, 1] = (
        7,
        figures(FROZEN_COLUMNS, views=90, ad_views=9, video_revenue="45.25", ad_revenue="2"),
    )
    data.closed_lines[FEB, 2] = (7, figures(FROZEN_COLUMNS, views=40, video_revenue="20"))
    data.closed_lines[JAN, 9] = (8, figures(FROZEN_COLUMNS, views=1, video_revenue="0.5"))
    data.adjustments += [
        (7, FEB, JAN, 1, Decimal("-0.5")),
        (7, FEB, JAN, 5, Decimal("0.25")),
        (7, MAR, FEB, 2, Decimal(9)),
    ]
    data.retention[D, 1] = (3, (3,) * 40 + (1,) * 60)
    data.retention[F, 1] = (2, tuple(k % 3 for k in range(100)))
    data.retention[D, 9] = (0, (0,) * 100)
    return data


def seed_sql(engine: sa.Engine, data: FakeFigures) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.insert(videos),
            [
                {"video_id": v, "seller_id": s, "title": t, "duration_sec": 60, "created_at_us": 1}
                for v, (s, t) in data.videos.items()
            ],
        )
        conn.execute(
            sa.insert(daily_video_stats),
            [
                {"day": day, "video_id": v, "seller_id": s, "cum_views": 0, "cum_ad_views": 0, **f}
                for (day, v), (s, f) in data.daily.items()
            ],
        )
        conn.execute(
            sa.insert(period_video_stats),
            [
                {"period": p.value, "period_start": start, "video_id": v, "seller_id": s, **f}
                for (p, start, v), (s, f) in data.periods.items()
            ],
        )
        closing = dict.fromkeys(("closed_by", "sellers", "lines", "adjustment_lines", "payouts_created"), 0)
        closing |= {"earnings": 0, "adjustments": 0, "payouts_krw": 0}
        conn.execute(
            sa.insert(month_closings), [{"month": m, "closed_at_us": at, **closing} for m, at in data.closed.items()]
        )
        conn.execute(
            sa.insert(closed_lines),
            [{"month": m, "video_id": v, "seller_id": s, **f} for (m, v), (s, f) in data.closed_lines.items()],
        )
        conn.execute(sa.insert(frozen_days), [{"day": day, "frozen_at_us": 1} for day in data.frozen_days])
        conn.execute(
            sa.insert(video_daily_retention),
            [
                {"day": day, "video_id": v, "views": views, "point_deltas": encode_deltas(deltas_of(points))}
                for (day, v), (views, points) in data.retention.items()
            ],
        )
        conn.execute(
            sa.insert(frozen_daily_stats),
            [{"day": day, "video_id": v, "seller_id": s, **f} for (day, v), (s, f) in data.frozen_daily.items()],
        )
        conn.execute(
            sa.insert(ledger_entries),
            [
                {
                    "seller_id": s,
                    "kind": EntryKind.ADJUSTMENT.value,
                    "posted_month": posted,
                    "original_month": original,
                    "video_id": v,
                    "amount": amount,
                    "posted_at_us": 1,
                }
                for s, posted, original, v, amount in data.adjustments
            ],
        )


PERIODS = [
    (Period.DAILY, [D, F, F + dt.timedelta(days=1), dt.date(2026, 2, 28), MAR]),
    (Period.WEEKLY, WEEKS),
    (Period.MONTHLY, [JAN, FEB, MAR, APR]),
]


def statistics_reads(reader: StatisticsReader) -> list[object]:
    answers: list[object] = []
    for seller in (7, 8, 99):
        for period, starts in PERIODS:
            for start in starts:
                answers += [
                    reader.top_videos(seller, period, start, m, n) for m in ("VIEWS", "WATCH_TIME") for n in (5, 2)
                ]
            parts = reader.seller_series(seller, period, starts[0], starts[-1])
            answers.append(sorted(parts, key=lambda p: (p.kind, p.start)))
    answers += [reader.video_seller(v) for v in (1, 5, 9, 99)]
    for video in (1, 2, 9, 99):
        answers.append(reader.daily_series(video, JAN, APR))
        answers.append(reader.daily_series(video, F, F))
        answers += [reader.period_series(video, p, starts) for p, starts in PERIODS[1:]]
        answers.append(reader.period_series(video, Period.WEEKLY, []))
        answers += [
            sorted(reader.daily_retention(video, first, last)) for first, last in ((JAN, APR), (D, D), (MAR, D))
        ]
    return answers


def statement_reads(reader: StatementReader) -> list[object]:
    answers: list[object] = [reader.closed_months()]
    for seller in (7, 8):
        for period, starts in PERIODS:
            answers += [reader.statement_lines(seller, period, start) for start in starts]
        answers += [reader.closed_month_lines(seller, m) for m in (JAN, FEB, MAR)]
        answers.append(reader.frozen_aware_lines(seller, JAN, dt.date(2026, 3, 31)))
        answers.append(reader.frozen_aware_lines(seller, WEEKS[0], dt.date(2026, 2, 15)))
        answers.append(reader.frozen_aware_lines(seller, WEEKS[1], MAR))
        answers += [reader.adjustments_posted(seller, m) for m in (JAN, FEB, MAR)]
    return answers


def test_the_fake_answers_as_worked_out_by_hand():
    stats = FakeStatisticsReader(world())
    assert [r.video_id for r in stats.top_videos(7, Period.DAILY, D, "VIEWS", 5)] == [2, 5, 1, 3]  # 4: zeros
    (week,) = [p for p in stats.seller_series(7, Period.WEEKLY, WEEKS[0], WEEKS[0]) if p.kind == "live"]
    assert (week.figures["views"], week.figures["video_revenue"]) == (15, Decimal("7.5"))
    statements = FakeStatementReader(world())
    # 28 February (video 1: 3 views, 1.25) and 1 March (video 2: ads 0.0001)
    assert [line[:3] for line in statements.frozen_aware_lines(7, WEEKS[1], MAR)] == [(1, "Cats", 3), (2, "Dogs", 1)]
    assert [a.video_id for a in statements.adjustments_posted(7, FEB)] == [1, 5]
    assert sorted(v for v, _ in stats.daily_retention(1, JAN, APR)) == [2, 3]
    assert stats.daily_retention(1, D, D) == [(3, (3,) * 40 + (1,) * 60)]


@pytest.mark.parametrize("backend", ["mariadb", "sqlite"])
def test_the_sql_readers_answer_as_the_fakes(backend, tmp_path):
    with fresh_engine(backend, "paysystem_figures_ports_", tmp_path) as engine:
        seed_sql(engine, world())
        with engine.connect() as conn:
            sql_stats = statistics_reads(SqlStatisticsReader(conn))
            sql_statements = statement_reads(SqlStatementReader(conn))
    assert sql_stats == statistics_reads(FakeStatisticsReader(world()))
    assert sql_statements == statement_reads(FakeStatementReader(world()))
