"""The domain rules of DESIGN.md section 2 at their edges (domain/counted_views.py), checked against the
plain reference (tests/reference.py) where both apply."""

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import counted_views
from domain.errors import BadTierTable
from domain.money import payable_krw, to_api_string
from domain.periods import day_bounds_us
from tests import reference

DESIGN = [(t.kind, t.effective_from, t.lower_bound, t.unit_price) for t in reference.DESIGN_TIERS]
DAY = dt.date(2026, 11, 2)
VIEWS = counted_views.tier_table_in_force(DESIGN, counted_views.VIEW, DAY)
ADS = counted_views.tier_table_in_force(DESIGN, counted_views.AD, DAY)


def test_a_video_going_from_550000_to_1150000_views_earns_810000_krw():
    amount = VIEWS.revenue(550_000, 600_000)
    assert amount == Decimal("810000.0")
    assert to_api_string(amount) == "810000.0"
    assert payable_krw(amount) == 810_000


@pytest.mark.parametrize(
    "before, count, expected",
    [
        (0, 0, Decimal(0)),
        (99_999, 1, Decimal("1.0")),  # the 100,000th view is priced by the tier of 99,999
        (100_000, 1, Decimal("1.1")),
        (99_999, 2, Decimal("2.1")),
        (499_999, 2, Decimal("2.4")),
        (999_999, 2, Decimal("2.8")),
        (0, 1_000_001, Decimal("100000") + Decimal("440000.0") + Decimal("650000.0") + Decimal("1.5")),
    ],
)
def test_view_tiers_are_marginal_at_each_bound(before, count, expected):
    assert VIEWS.revenue(before, count) == expected


def test_ad_tiers_price_the_ad_count_before_each_ad_view():
    assert ADS.revenue(99_999, 2) == Decimal(22)
    assert ADS.revenue(999_998, 3) == Decimal(15 + 15 + 20)


@given(st.integers(0, 1_100_000), st.integers(0, 3_000))
def test_closed_form_tier_pricing_equals_pricing_each_unit(before, count):
    assert VIEWS.revenue(before, count) == reference.price(reference.DESIGN_TIERS, "VIEW", DAY, before, count)
    assert ADS.revenue(before, count) == reference.price(reference.DESIGN_TIERS, "AD", DAY, before, count)


def test_the_latest_table_effective_on_or_before_the_day_applies():
    rows = DESIGN + [("VIEW", DAY, 0, Decimal("2")), ("VIEW", DAY + dt.timedelta(days=1), 0, Decimal("3"))]
    assert counted_views.tier_table_in_force(rows, counted_views.VIEW, DAY).revenue(0, 1) == Decimal(2)
    assert counted_views.tier_table_in_force(rows, counted_views.VIEW, DAY - dt.timedelta(days=1)).revenue(
        0, 1
    ) == Decimal(1)


@pytest.mark.parametrize(
    "rows",
    [
        [],
        [("VIEW", DAY, 5, Decimal(1))],  # does not start at 0
        [("VIEW", DAY + dt.timedelta(days=1), 0, Decimal(1))],  # not yet in force
    ],
)
def test_a_tier_table_that_cannot_price_every_count_is_refused(rows):
    with pytest.raises(BadTierTable):
        counted_views.tier_table_in_force(rows, counted_views.VIEW, DAY)


@pytest.mark.parametrize(
    "duration, start, end, expected",
    [
        (600, 0, 600, 1),  # a 600 s video has only the mark at 300
        (601, 0, 601, 2),
        (300, 0, 300, 0),  # no mark strictly inside a 300 s video
        (1000, 299, 300, 1),  # the mark at the end position counts
        (1000, 300, 599, 0),  # a mark at the start position does not
        (1000, 300, 600, 1),
        (1000, 0, 299, 0),
        (1000, 400, 400, 0),  # start == end
        (1000, 0, 5000, 3),  # end beyond the duration: marks 300, 600, 900
        (0, 0, 10, 0),
    ],
)
def test_ad_marks(duration, start, end, expected):
    assert counted_views.ad_views(start, end, duration) == expected
    naive = sum(1 for m in counted_views.ad_marks(duration) if start < m <= end)
    assert naive == expected


@given(st.integers(0, 4000), st.integers(0, 4000), st.integers(0, 4000))
def test_closed_form_ad_count_equals_counting_each_mark(duration, start, length):
    end = start + length
    assert counted_views.ad_views(start, end, duration) == sum(1 for m in range(300, duration, 300) if start < m <= end)


@pytest.mark.parametrize(
    "gap_us, repeat",
    [(29_000_000, True), (29_999_999, True), (30_000_000, False), (31_000_000, False), (0, True)],
)
def test_29_30_and_31_second_gaps(gap_us, repeat):
    assert counted_views.is_repeat(1_000_000_000, 1_000_000_000 + gap_us) is repeat


def test_a_first_playback_is_not_a_repeat():
    assert counted_views.is_repeat(None, 5) is False


def test_self_views_never_count():
    assert counted_views.is_counted_view(7, 7, None, 0) is False
    assert counted_views.is_counted_view(8, 7, None, 0) is True
    assert counted_views.is_counted_view(8, 7, 0, 10) is False


@pytest.mark.parametrize(
    "start, end, duration, expected",
    [(0, 100, 50, 50), (60, 100, 50, 0), (10, 10, 50, 0), (10, 40, 50, 30), (0, 50, 50, 50)],
)
def test_watch_time_is_clamped_to_the_duration_and_never_negative(start, end, duration, expected):
    assert counted_views.watch_time_sec(start, end, duration) == expected


def test_ties_are_ordered_by_event_id_byte_wise():
    assert counted_views.ordered_plays_key(5, "B") < counted_views.ordered_plays_key(5, "a")
    assert counted_views.ordered_plays_key(5, "Z") < counted_views.ordered_plays_key(5, "é")


def test_reference_repeats_cross_midnight_and_compare_with_uncounted_plays():
    from zoneinfo import ZoneInfo

    from domain.periods import day_bounds_us

    zone = ZoneInfo("Asia/Seoul")
    midnight = day_bounds_us(DAY, zone)[0]
    videos = [reference.Video(1, 100, 1000)]
    plays = [
        reference.Play("a", 1, 5, midnight - 10_000_000, 0, 10),
        reference.Play("b", 1, 5, midnight + 10_000_000, 0, 10),
        reference.Play("c", 1, 5, midnight + 35_000_000, 0, 10),  # 25 s after b (a repeat)
        reference.Play("d", 1, 100, midnight + 40_000_000, 0, 10),  # the seller's own
    ]
    daily = reference.compute_daily(videos, plays, zone)
    assert daily[(1, DAY - dt.timedelta(days=1))].views == 1
    assert daily[(1, DAY)].views == 0
    assert daily[(1, DAY)].watch_time_sec == 20


@pytest.mark.parametrize(
    "amount, text, whole",
    [
        (Decimal("810000.0000"), "810000.0", 810000),
        (Decimal("0.0375"), "0.0375", 0),
        (Decimal("12"), "12.0", 12),
        (Decimal("-3.70"), "-3.7", -3),
        (Decimal("1E+3"), "1000.0", 1000),
        (Decimal("-1.5E+2"), "-150.0", -150),
        (Decimal("1E-7"), "0.0000001", 0),
        (Decimal("-0.0000"), "0.0", 0),
        (Decimal("0E-4"), "0.0", 0),
        (Decimal("99999999999999999999.9999"), "99999999999999999999.9999", 99999999999999999999),
    ],
)
def test_money_crosses_the_api_as_an_exact_string_and_truncates_toward_zero(amount, text, whole):
    assert to_api_string(amount) == text
    assert payable_krw(amount) == whole


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**21), max_value=10**21))
def test_any_exact_amount_reads_back_as_itself_in_plain_notation(amount):
    text = to_api_string(amount)
    assert Decimal(text) == amount
    assert re.fullmatch(r"-?\d+\.\d+", text), text
    assert text == "0.0" or not text.endswith("0") or text.endswith(".0"), text


def test_money_refuses_floats():
    with pytest.raises(TypeError):
        to_api_string(1.5)


SEOUL = ZoneInfo("Asia/Seoul")
T0 = 1_800_000_000_000_000  # an instant in the middle of a Seoul day (2027-01-15 17:20 local)


@pytest.mark.parametrize(
    "watch_sec, gap_us, overlap",
    [
        (100, 49_999_999, True),  # 1 microsecond before previous + 100 s / 2
        (100, 50_000_000, False),  # exactly previous + watch / 2 is not an overlap
        (100, 50_000_001, False),
        (1, 499_999, True),  # half a second of wall time for one second of video at 2x
        (1, 500_000, False),
        (0, 0, False),  # a start == end previous playback leaves no room to overlap
        (0, 1, False),
    ],
)
def test_overlap_compares_with_half_the_previous_watch_time_at_exact_instants(watch_sec, gap_us, overlap):
    assert counted_views.is_overlap(T0, watch_sec, T0 + gap_us) is overlap


def test_a_first_playback_overlaps_nothing():
    assert counted_views.is_overlap(None, 0, T0) is False


def _play(event_id, started_at_us, start=0, end=10, viewer=5, video=1):
    return reference.Play(event_id, video, viewer, started_at_us, start, end)


VIDEOS = {1: (100, 1000)}  # video 1: seller 100, 1000 s long
S = 1_000_000


def test_classify_attributes_each_playback_to_its_strongest_rule():
    plays = [
        _play("a", T0, 0, 120),  # counted; 120 s watched, ends at the earliest 60 s later
        _play("b", T0 + 20 * S, 0, 10),  # 20 s after a: a repeat AND an overlap -> OVERLAP
        _play("c", T0 + 45 * S, 0, 10),  # 25 s after b, b's 10 s end by +5 s: REPEAT only
        _play("d", T0 + 90 * S, 0, 10),  # 45 s after c: counted
        _play("e", T0, 0, 120, viewer=100),  # the seller: SELF_VIEW whatever else applies
        _play("f", T0 + 1, 0, 120, viewer=100),
    ]
    assert counted_views.classify_plays(plays, VIDEOS, zone=SEOUL) == {
        "a": None,
        "b": counted_views.Exclusion.OVERLAP,
        "c": counted_views.Exclusion.REPEAT,
        "d": None,
        "e": counted_views.Exclusion.SELF_VIEW,
        "f": counted_views.Exclusion.SELF_VIEW,
    }


def test_overlap_uses_the_watch_time_clamped_to_the_duration():
    videos = {1: (100, 60)}  # a 60 s video: watch time of 0..500 is 60 s, so 30 s of wall time
    plays = [_play("a", T0, 0, 500), _play("b", T0 + 30 * S, 0, 10), _play("c", T0 + 60 * S - 1, 0, 10)]
    result = counted_views.classify_plays(plays, videos, zone=SEOUL)
    assert result == {"a": None, "b": None, "c": counted_views.Exclusion.REPEAT}


def test_the_previous_playback_is_the_one_just_before_counted_or_not():
    # a lasts long; b overlaps a; c does not overlap b (b is short) though it starts before
    # a could have ended: rule 3 looks only at the previous playback.
    plays = [_play("a", T0, 0, 1000), _play("b", T0 + 100 * S, 0, 10), _play("c", T0 + 200 * S, 0, 10)]
    assert counted_views.classify_plays(plays, VIDEOS, zone=SEOUL) == {
        "a": None,
        "b": counted_views.Exclusion.OVERLAP,
        "c": None,
    }


def test_ties_on_started_at_make_the_later_event_id_the_overlapping_one():
    plays = [_play("b", T0, 0, 100), _play("B", T0, 0, 100)]  # "B" < "b" byte-wise
    assert counted_views.classify_plays(plays, VIDEOS, zone=SEOUL) == {"B": None, "b": counted_views.Exclusion.OVERLAP}


def test_only_the_first_ten_passing_playbacks_of_a_local_day_count_and_the_cap_resets_at_midnight():
    midnight = day_bounds_us(dt.date(2027, 1, 16), SEOUL)[0]
    start = midnight - 11 * 60 * S  # 11 plays a minute apart before midnight, 3 after
    plays = [_play(f"p{i:02}", start + i * 60 * S, 0, 10) for i in range(14)]
    plays.append(_play("rep", start + 66 * S, 0, 0))  # 6 s after p01 (ended by +5 s): a repeat, no cap slot
    result = counted_views.classify_plays(plays, VIDEOS, zone=SEOUL)
    assert [result[f"p{i:02}"] for i in range(14)] == [None] * 10 + [counted_views.Exclusion.CAP] + [None] * 3
    assert result["rep"] is counted_views.Exclusion.REPEAT


def test_overlap_crosses_midnight():
    midnight = day_bounds_us(dt.date(2027, 1, 16), SEOUL)[0]
    plays = [_play("late", midnight - 10 * S, 0, 900), _play("next", midnight + 5 * 60 * S, 0, 10)]
    assert counted_views.classify_plays(plays, VIDEOS, zone=SEOUL)["next"] is counted_views.Exclusion.OVERLAP


@pytest.mark.parametrize(
    "exclusion, earns",
    [
        (None, True),
        (counted_views.Exclusion.SELF_VIEW, False),
        (counted_views.Exclusion.OVERLAP, False),
        (counted_views.Exclusion.REPEAT, True),
        (counted_views.Exclusion.CAP, True),
    ],
)
def test_only_self_views_and_overlaps_lose_their_watch_time(exclusion, earns):
    assert counted_views.earns_watch_time(exclusion) is earns


@st.composite
def _histories(draw):
    videos = {1: (100, draw(st.sampled_from([0, 1, 60, 301, 900]))), 2: (101, 600)}
    plays, started = [], T0 + draw(st.sampled_from([-86_400, 0])) * S
    for i in range(draw(st.integers(1, 30))):
        started += draw(st.sampled_from([0, 1, 499_999, 500_000, 29_999_999, 30 * S, 150_500_000, 3600 * S]))
        start = draw(st.sampled_from([0, 10, 299]))
        plays.append(
            reference.Play(
                f"{draw(st.sampled_from('aBé'))}{i}",
                draw(st.sampled_from([1, 2])),
                draw(st.sampled_from([5, 100, 101])),
                started,
                start,
                start + draw(st.sampled_from([0, 1, 60, 301, 2000])),
            )
        )
    return videos, plays


@given(_histories())
def test_classify_plays_agrees_with_the_reference_on_every_playback(history):
    videos, plays = history
    expected = reference.classify(
        {v: reference.Video(v, seller, duration) for v, (seller, duration) in videos.items()}, plays, SEOUL
    )
    got = counted_views.classify_plays(plays, videos, zone=SEOUL)
    assert {e: (r.value if r else None) for e, r in got.items()} == {e: v[3] for e, v in expected.items()}
