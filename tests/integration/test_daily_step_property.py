"""Property: the SQL daily step (MariaDB and SQLite) equals the plain reference, day by day
and for weeks and months, including late arrivals and pre-seeded running totals."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.periods import day_bounds_us
from tests.integration.conftest import SEOUL, BatchData
from tests.reference import Play, Seed, Video, compute_daily, compute_periods, compute_retention

# Sunday, Monday (a new ISO week) and Tuesday (a new month): weeks and months both split.
DAYS = [dt.date(2026, 11, 29), dt.date(2026, 11, 30), dt.date(2026, 12, 1)]
SEED_DAY = dt.date(2026, 1, 5)
SELLERS = {1: 500, 2: 500, 3: 501}
VIDEOS = st.tuples(*[st.sampled_from([0, 1, 299, 300, 301, 600, 601, 900, 1000]) for _ in SELLERS]).map(
    lambda ds: [Video(v, SELLERS[v], d) for v, d in zip(SELLERS, ds, strict=True)]
)

# Instants that make the rules bite: both sides of midnight, 29/30/31-second gaps.
OFFSETS_SEC = [0, 1, 10, 29, 30, 31, 45, 3600, 43_200, 43_229, 43_230, 43_231, 86_340, 86_370, 86_390, 86_399]


@st.composite
def plays_strategy(draw):
    count = draw(st.integers(1, 40))
    plays = []
    event_ids = draw(
        st.lists(
            st.text(alphabet="aAbB9-_é\t", min_size=1, max_size=4),
            min_size=count,
            max_size=count,
            unique=True,
        )
    )
    for event_id in event_ids:
        day = draw(st.sampled_from(DAYS))
        started = day_bounds_us(day, SEOUL)[0] + draw(st.sampled_from(OFFSETS_SEC)) * 1_000_000
        started += draw(st.sampled_from([0, 0, 1, 999_999]))
        start = draw(st.integers(0, 1100))
        end = start + draw(st.sampled_from([0, 1, 299, 300, 301, 600, 2000]))
        plays.append(
            Play(
                event_id=event_id,
                video_id=draw(st.sampled_from(list(SELLERS))),
                viewer_id=draw(st.sampled_from([500, 501, 7, 8, 9])),
                started_at_us=started,
                start_position_sec=start,
                end_position_sec=end,
            )
        )
    return plays


SEEDS = st.dictionaries(
    st.sampled_from(list(SELLERS)),
    st.builds(
        lambda v, a: Seed(SEED_DAY, v, a),
        st.sampled_from([0, 99_990, 99_999, 499_995, 999_990, 1_000_000]),
        st.sampled_from([0, 99_999, 499_998, 999_999]),
    ),
)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(videos=VIDEOS, plays=plays_strategy(), seeds=SEEDS, late=st.integers(0, 40))
def test_the_sql_step_equals_the_reference(batch_engine, videos, plays, seeds, late):
    data = BatchData(batch_engine, SEOUL)
    data.clear()
    data.add_videos(videos)
    data.add_seeds(seeds, SELLERS)
    # The first plays arrive in time; the rest arrive after the days were computed.
    on_time, late_plays = plays[: len(plays) - late], plays[len(plays) - late :]
    data.add_plays(on_time)
    data.run_pending()
    data.add_plays(late_plays)
    data.run_pending()
    assert data.days_to_compute(dt.date(2100, 1, 1)) == []

    expected = compute_daily(videos, plays, SEOUL, seeds=seeds)
    assert data.daily_rows(exclude_days={SEED_DAY}) == expected
    for period in ("WEEKLY", "MONTHLY"):
        assert data.period_rows(period) == compute_periods(expected, period)
    assert data.retention_rows() == compute_retention(videos, plays, SEOUL)
