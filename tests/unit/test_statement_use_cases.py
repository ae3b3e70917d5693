"""The statement use case (services/settlement/service.read_statement) against the in-memory
reader (tests/fakes/figures.py): no database. Lines, totals and the payable amount are worked
out by hand below."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from domain.periods import Period, period_bounds
from services.settlement import service
from services.settlement.service import AdjustmentLine, StatementLine, Status
from tests.fakes.figures import FROZEN_COLUMNS, FakeFigures, FakeStatementReader, figures

JAN, FEB, MAR = dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)
D = dt.date(2026, 3, 3)
THROUGH = dt.date(2026, 3, 5)
FEB_CLOSED_AT = 1_772_000_000_000_000


def world() -> FakeFigures:
    """February closed. Seller 7: on D, video 1 earns 1,000.9999 + 0.0002 (ads), video 2
    499.5, video 3 is watched but earns nothing; February's frozen lines and an adjustment
    of -0.5 for January's video 1 posted at its close; the last week of February (23
    February to 1 March) has daily rows on 28 February and 1 March."""
    data = FakeFigures(videos={1: (7, "Cats"), 2: (7, "Dogs"), 3: (7, "Owls")}, closed={FEB: FEB_CLOSED_AT})
    data.daily[D, 1] = (7, figures(views=1000, ad_views=2, video_revenue="1000.9999", ad_revenue="0.0002"))
    data.daily[D, 2] = (7, figures(views=999, video_revenue="499.5"))
    data.daily[D, 3] = (7, figures(views=5))
    data.daily[D, 9] = (8, figures(views=1, video_revenue="7"))  # another seller's
    data.closed_lines[FEB, 2] = (7, figures(FROZEN_COLUMNS, views=10, video_revenue="5.25"))
    data.closed_lines[FEB, 1] = (7, figures(FROZEN_COLUMNS, views=20, ad_views=1, video_revenue="10", ad_revenue="0.1"))
    data.adjustments.append((7, FEB, JAN, 1, Decimal("-0.5")))
    data.adjustments.append((7, MAR, FEB, 1, Decimal("9")))  # posted at March's close: not February's
    data.daily[dt.date(2026, 2, 28), 1] = (7, figures(views=3, video_revenue="1.25"))
    data.daily[MAR, 1] = (7, figures(views=4, video_revenue="2"))
    data.daily[MAR, 2] = (7, figures(views=1, video_revenue="0.0001"))
    return data


def statement(period: Period, day: dt.date, data: FakeFigures | None = None) -> service.Statement:
    start, end = period_bounds(period, day)
    return service.read_statement(FakeStatementReader(data or world()), 7, period, start, end, THROUGH)


def test_an_open_days_statement_has_its_non_zero_lines_by_video_and_truncates_the_total_once():
    s = statement(Period.DAILY, D)
    assert s.lines == (
        StatementLine(1, "Cats", 1000, 2, Decimal("1000.9999"), Decimal("0.0002")),
        StatementLine(2, "Dogs", 999, 0, Decimal("499.5"), Decimal(0)),
    )
    assert s.lines[0].amount == Decimal("1001.0001")
    # 1,000.9999 + 499.5 = 1,500.4999 (video) and 0.0002 (ads): 1,500.5001, payable 1,500
    assert (s.video_revenue, s.ad_revenue, s.total) == (Decimal("1500.4999"), Decimal("0.0002"), Decimal("1500.5001"))
    assert s.payable_krw == 1500
    assert (s.status, s.closed_at_us, s.adjustments, s.data_through) == (Status.OPEN, None, (), THROUGH)


def test_a_closed_months_statement_is_its_frozen_lines_and_the_adjustments_posted_at_its_close():
    s = statement(Period.MONTHLY, dt.date(2026, 2, 14))
    assert s.lines == (
        StatementLine(1, "Cats", 20, 1, Decimal("10"), Decimal("0.1")),
        StatementLine(2, "Dogs", 10, 0, Decimal("5.25"), Decimal(0)),
    )
    assert s.adjustments == (AdjustmentLine(JAN, 1, "Cats", Decimal("-0.5")),)
    # 10 + 5.25 + 0.1 - 0.5 = 14.85, payable 14
    assert (s.total, s.payable_krw) == (Decimal("14.85"), 14)
    assert (s.status, s.closed_at_us) == (Status.CLOSED, FEB_CLOSED_AT)


def test_a_week_across_a_closed_and_an_open_month_sums_its_days_and_stays_open():
    s = statement(Period.WEEKLY, dt.date(2026, 2, 25))
    # 28 February (closed, read from the batch's rows: not recomputed) and 1 March
    assert s.lines == (
        StatementLine(1, "Cats", 7, 0, Decimal("3.25"), Decimal(0)),
        StatementLine(2, "Dogs", 1, 0, Decimal("0.0001"), Decimal(0)),
    )
    assert (s.total, s.payable_krw, s.status, s.closed_at_us, s.adjustments) == (
        Decimal("3.2501"),
        3,
        Status.OPEN,
        None,
        (),
    )


def test_a_closed_week_reads_the_copy_of_a_recomputed_day_and_is_closed():
    data = world()
    day = dt.date(2026, 2, 10)
    data.frozen_days.add(day)
    data.frozen_daily[day, 1] = (7, figures(FROZEN_COLUMNS, views=8, video_revenue="4"))
    data.daily[day, 1] = (7, figures(views=10, video_revenue="5"))
    data.daily[day, 2] = (7, figures(views=2, video_revenue="1"))  # recomputed: not in the copy
    data.daily[day + dt.timedelta(days=1), 2] = (7, figures(views=1, video_revenue="0.9999"))
    s = statement(Period.WEEKLY, day, data)
    assert s.lines == (
        StatementLine(1, "Cats", 8, 0, Decimal(4), Decimal(0)),
        StatementLine(2, "Dogs", 1, 0, Decimal("0.9999"), Decimal(0)),
    )
    assert (s.total, s.payable_krw, s.status, s.closed_at_us) == (Decimal("4.9999"), 4, Status.CLOSED, FEB_CLOSED_AT)
