"""The statement's SQL (services/settlement/repository.py) on both storages: on MariaDB each
line comes back as one text column that Python splits, so what could break in that format
is checked here: titles with tabs, newlines and non-ASCII text, a video without a row in
`videos`, zero-amount rows, and amounts with every DECIMAL(24,4) digit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from domain.periods import Period
from services.settlement.repository import statement_lines
from services.video.tables import videos
from tests.databases import fresh_engine
from tests.plugins.readside import Daily, publish_day

SELLER, OTHER = 71, 72
DAY = dt.date(2026, 3, 4)
TITLES = {
    801: "tab\there\tand there",
    802: "line\nbreak, 비디오 🎬",
    803: "",
    805: "  spaces kept  ",
}


@pytest.fixture(params=["sqlite", "mariadb"])
def engine(request, tmp_path):
    with fresh_engine(request.param, "paysystem_lines_", tmp_path) as engine:
        with engine.begin() as conn:
            conn.execute(
                sa.insert(videos),
                [
                    {"video_id": v, "seller_id": SELLER, "title": t, "duration_sec": 60, "created_at_us": 0}
                    for v, t in TITLES.items()
                ]
                + [{"video_id": 804, "seller_id": OTHER, "title": "not mine", "duration_sec": 60, "created_at_us": 0}],
            )
        yield engine


def _publish(engine, big: str) -> None:
    publish_day(
        engine,
        DAY,
        [
            Daily(801, views=3, ad_views=1, video_revenue="3.3000", ad_revenue="12"),
            Daily(802, views=9_000_000_000, ad_views=0, video_revenue=big, ad_revenue="0.0001"),
            Daily(803, views=5, ad_views=0, video_revenue="0", ad_revenue="0"),  # no amount: no line
            Daily(804, views=1, ad_views=0, video_revenue="1.1", ad_revenue="0"),  # another seller's
            Daily(805, views=0, ad_views=2, video_revenue="0", ad_revenue="24.5"),
        ],
    )


def test_lines_are_exact_typed_and_keep_any_title(engine):
    # Every digit of DECIMAL(24,4) on MariaDB; SQLite keeps money as a float (15 digits).
    big = "12345678901234567890.1234" if engine.dialect.name != "sqlite" else "1234567890.1234"
    _publish(engine, big)
    with engine.connect() as conn:
        for period, start in (
            (Period.DAILY, DAY),
            (Period.WEEKLY, dt.date(2026, 3, 2)),
            (Period.MONTHLY, dt.date(2026, 3, 1)),
        ):
            lines = statement_lines(conn, SELLER, period, start)
            assert lines == [
                (801, TITLES[801], 3, 1, Decimal("3.3"), Decimal("12")),
                (802, TITLES[802], 9_000_000_000, 0, Decimal(big), Decimal("0.0001")),
                (805, TITLES[805], 0, 2, Decimal("0"), Decimal("24.5")),
            ], period
            assert [tuple(map(type, line)) for line in lines] == [(int, str, int, int, Decimal, Decimal)] * 3


def test_a_video_missing_from_the_catalogue_still_has_its_line_with_an_empty_title(engine):
    _publish(engine, "1.0")
    with engine.begin() as conn:
        conn.execute(sa.delete(videos).where(videos.c.video_id == 805))
    with engine.connect() as conn:
        lines = statement_lines(conn, SELLER, Period.DAILY, DAY)
    assert [(line[0], line[1]) for line in lines] == [(801, TITLES[801]), (802, TITLES[802]), (805, "")]
