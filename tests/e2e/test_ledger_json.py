"""The ledger through the real Envoy, in JSON (DESIGN 2a, issue 15): close months, read the
frozen statements, balances, the paged ledger and payouts, mark payouts; who may do what;
bad input; and after every refusal, nothing stored.

Plays are ingested with an INGEST account and computed by the real batch (POST
/v1/batch/jobs); every expected figure comes from tests/reference.py (compute_daily over the
raw plays, LedgerModel for the ledger), never from the code under test.

The mesh is shared: closing is for every seller at once and months close in order, so this
module owns 2011-01 .. 2011-03 (no other e2e test has data before 2014, and only the quiet
2001-01-01 is run there). A payout minimum effective from 2011-01-01 makes payouts possible
with few plays; it is deleted again when the module ends (it is also what GET balance shows
today). Plays into 2011 make every day computed after them stale (running totals carry
forward), so the module ends with a catch-up run that leaves no day stale.

The tests run in order on one world (the module fixture): the refusals before the batch ran,
the lifecycle of two closes with a late play between them, then maker-checker approval by a
second admin, Idempotency-Key, marking, what each payout pays, authorization and bad input
(each closes and approves what it needs if run alone).
"""

from __future__ import annotations

import csv
import datetime as dt
import http.client
import io
import json
import threading
from decimal import Decimal
from zoneinfo import ZoneInfo

import grpc
import pytest
import sqlalchemy as sa

from batch.computed_days import days_to_compute
from batch.tables import computed_days
from domain.periods import day_bounds_us
from services.common import db
from services.settlement.tables import payout_minimums
from tests import reference

JAN, FEB, MAR = dt.date(2011, 1, 1), dt.date(2011, 2, 1), dt.date(2011, 3, 1)
PLAY_DAYS = [dt.date(2011, 1, d) for d in (3, 10, 17, 24, 31)] + [dt.date(2011, 2, d) for d in (1, 7, 14, 28)]
BATCH = {"job": "daily", "date": "2011-01-01", "to_date": "2011-02-28", "rerun": True}
MINIMUM_KRW = 40
MINIMUM_FROM = JAN
LEDGER_TABLES = ("month_closings", "ledger_entries", "payouts")
PROFILES = {
    "A": {"legal_name": "Kim Minji", "tax_type": "INDIVIDUAL", "bank_code": "004", "account_number": "110-234-567890"},
    "B": {
        "legal_name": "Studio B Co., Ltd.",
        "tax_type": "BUSINESS",
        "bank_code": "088",
        "account_number": "5512345678",
        "business_number": "120-88-10004",  # check digit: tests/unit/test_payout_profiles.py
    },
    "C": {"legal_name": "Park Seojun", "tax_type": "INDIVIDUAL", "bank_code": "020", "account_number": "1002003004005"},
}
INVALID_ARGUMENT = grpc.StatusCode.INVALID_ARGUMENT.value[0]
NOT_FOUND = grpc.StatusCode.NOT_FOUND.value[0]
ALREADY_EXISTS = grpc.StatusCode.ALREADY_EXISTS.value[0]
PERMISSION_DENIED = grpc.StatusCode.PERMISSION_DENIED.value[0]
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED.value[0]
FAILED_PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION.value[0]


def _month(day: dt.date) -> str:
    return f"{day:%Y-%m}"


class World:
    """The accounts, videos and plays of this module, and the independent ledger model."""

    def __init__(self, mesh) -> None:
        self.mesh = mesh
        self.zone = ZoneInfo(mesh.settings.timezone)
        self.engine = db.make_engine(mesh.settings)
        self.admin_id, self.admin = mesh.create_admin()  # closes the months
        self.checker_id, self.checker = mesh.create_admin()  # maker-checker: approves them
        _, self.ingest_token = mesh.create_account_directly("INGEST")
        self.sellers: dict[str, tuple[int, str]] = {name: mesh.sign_up_and_login("SELLER") for name in "ABC"}
        self.viewers = [mesh.sign_up_and_login("VIEWER") for _ in range(3)]
        self.videos: dict[str, list[reference.Video]] = {}
        for name, durations in {"A": (600, 1_200), "B": (900,), "C": (300,)}.items():
            seller_id, token = self.sellers[name]
            self.videos[name] = []
            for duration in durations:
                status, body = mesh.json(
                    "POST", "/v1/videos", {"title": f"ledger {name} {duration}", "duration_sec": duration}, token=token
                )
                assert status == 200, body
                self.videos[name].append(reference.Video(int(body["video_id"]), seller_id, duration))
        # Complete payout profiles (their payouts are PENDING, not HELD): B is a business.
        for name, profile in PROFILES.items():
            seller_id, token = self.sellers[name]
            status, body = mesh.json("PUT", f"/v1/sellers/{seller_id}/payout-profile", profile, token=token)
            assert status == 200, body
        self.plays: list[reference.Play] = []
        self.model = reference.LedgerModel(minimum_krw=MINIMUM_KRW)
        self.closings: dict[dt.date, dict] = {}
        self.batch_ran = False

    # --- data ------------------------------------------------------------------------------

    def at(self, day: dt.date, second: int) -> int:
        return day_bounds_us(day, self.zone)[0] + second * 1_000_000

    def initial_plays(self) -> list[reference.Play]:
        plays = []
        viewer_ids = [v[0] for v in self.viewers]
        for d, day in enumerate(PLAY_DAYS):
            for k in range(6):  # A and B: six plays a day, hours apart
                video = [*self.videos["A"], *self.videos["B"]][k % 3]
                start = (k * 53 + d * 29) % 200
                plays.append(
                    reference.Play(
                        f"ledger-{video.video_id}-{day}-{k}",
                        video.video_id,
                        viewer_ids[k % 3],
                        self.at(day, 3_600 + k * 7_200 + d),
                        start,
                        min(video.duration_sec, start + 120 + (k * 97 + d * 41) % 900),
                    )
                )
        c = self.videos["C"][0]  # C: one short play a month, below the minimum
        for day in (PLAY_DAYS[1], PLAY_DAYS[6]):
            plays.append(
                reference.Play(f"ledger-{c.video_id}-{day}", c.video_id, viewer_ids[0], self.at(day, 600), 0, 40)
            )
        # Feb 1 00:00:10: a counted view of A's first video, until the late play 20 s before it.
        a1 = self.videos["A"][0].video_id
        plays.append(reference.Play(f"ledger-next-{a1}", a1, viewer_ids[2], self.at(FEB, 10), 0, 400))
        return plays

    def late_play(self) -> reference.Play:
        a1 = self.videos["A"][0].video_id
        return reference.Play(
            f"ledger-late-{a1}", a1, self.viewers[2][0], self.at(dt.date(2011, 1, 31), 86_390), 0, 400
        )

    def ingest(self, plays: list[reference.Play]) -> None:
        status, body = self.mesh.record_plays(plays, self.ingest_token)
        assert status == 200 and int(body["stored"]) == len(plays), body
        self.plays += plays

    def run_batch(self) -> None:
        status, events = self.mesh.run_job(BATCH, self.admin)
        assert status == 200 and events[-1]["type"] == "JOB_FINISHED", events
        self.batch_ran = True

    def catalogue(self) -> list[reference.Video]:
        return [v for videos in self.videos.values() for v in videos]

    def daily(self, plays: list[reference.Play] | None = None) -> dict:
        return reference.compute_daily(self.catalogue(), self.plays if plays is None else plays, self.zone)

    def monthly(self, plays: list[reference.Play] | None = None) -> dict:
        return reference.compute_periods(self.daily(plays), "MONTHLY")

    # --- calls -----------------------------------------------------------------------------

    def close(self, month: dt.date, token: str | None = None) -> tuple[int, object]:
        status, body = self.mesh.json(
            "POST", "/v1/settlement/closings", {"month": _month(month)}, token=token or self.admin
        )
        if status == 200 and month not in self.model.closed:
            self.model.close(month, self.monthly())
            self.closings[month] = body
        return status, body

    def approve(self, month: dt.date, token: str | None = None, **kwargs) -> tuple[int, object]:
        status, body = self.mesh.json(
            "POST", f"/v1/settlement/closings/{_month(month)}:approve", {}, token=token or self.checker, **kwargs
        )
        if status == 200:
            self.model.approve(month)
        return status, body

    def approve_through(self, last: dt.date) -> None:
        """The months up to `last` closed and approved by the second admin."""
        self.close_through(last)
        for month in (JAN, FEB):
            if month <= last:
                status, body = self.approve(month)
                assert status == 200, body

    def close_through(self, last: dt.date) -> None:
        """What a test run alone needs: the batch run and the months up to `last` closed."""
        if not self.batch_ran:
            self.run_batch()
        for month in (JAN, FEB):
            if month <= last and month not in self.model.closed:
                status, body = self.close(month)
                assert status == 200, body

    def get(self, path: str, token: str | None = None) -> dict:
        status, body = self.mesh.json("GET", path, token=token or self.admin)
        assert status == 200, (path, body)
        return body

    def statement(self, name: str, period: str, day: dt.date) -> dict:
        seller_id, token = self.sellers[name]
        return self.get(f"/v1/sellers/{seller_id}/settlements?period={period}&date={day}", token)

    def ledger(self, name: str, first: dt.date, last: dt.date, page_size: int = 1) -> list[dict]:
        """Every entry of the range, page by page, with the seller's own token."""
        seller_id, token = self.sellers[name]
        entries, page_token, pages = [], "", 0
        while True:
            path = f"/v1/sellers/{seller_id}/ledger?from={_month(first)}&to={_month(last)}&page_size={page_size}"
            body = self.get(path + (f"&page_token={page_token}" if page_token else ""), token)
            entries += body.get("entries", [])
            pages += 1
            assert len(body.get("entries", [])) <= page_size
            page_token = body.get("next_page_token", "")
            if not page_token:
                break
        assert pages == max(1, -(-len(entries) // page_size))
        return entries

    def current_days(self) -> set[dt.date]:
        """The computed days that are not stale (through yesterday, what a catch-up run covers)."""
        yesterday = dt.datetime.now(self.zone).date() - dt.timedelta(days=1)
        with self.engine.connect() as conn:
            computed = {day for (day,) in conn.execute(sa.select(computed_days.c.day)) if day <= yesterday}
            return computed - set(days_to_compute(conn, through=yesterday))

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in LEDGER_TABLES}

    # --- expectations from the model ------------------------------------------------------

    def seller_id(self, name: str) -> int:
        return self.sellers[name][0]

    def model_entries(self, name: str, first: dt.date = JAN, last: dt.date = MAR) -> list[tuple]:
        seller_id = self.seller_id(name)
        return sorted(
            (kind, _month(posted), _month(original) if original else "", video or 0, amount)
            for s, kind, posted, original, video, _payout, amount in self.model.entries
            if s == seller_id and first <= posted <= last
        )

    def expected_lines(self, name: str, month: dt.date, plays: list[reference.Play] | None = None) -> list[tuple]:
        seller_id = self.seller_id(name)
        return sorted(
            (r.video_id, r.views, r.ad_views, r.video_revenue, r.ad_revenue, r.video_revenue + r.ad_revenue)
            for (start, _), r in self.monthly(plays).items()
            if start == month and r.seller_id == seller_id and r.video_revenue + r.ad_revenue != 0
        )


def _entries(entries: list[dict]) -> list[tuple]:
    return sorted(
        (
            e["kind"],
            e["posted_month"],
            e.get("original_month", ""),
            int(e.get("video_id", 0)),
            Decimal(e["amount"]),
        )
        for e in entries
    )


def _lines(statement: dict) -> list[tuple]:
    return [
        (
            int(line["video_id"]),
            int(line.get("views", 0)),
            int(line.get("ad_views", 0)),
            Decimal(line["video_revenue"]),
            Decimal(line["ad_revenue"]),
            Decimal(line["amount"]),
        )
        for line in statement.get("lines", [])
    ]


def _closing_figures(body: dict) -> tuple:
    return (
        body["month"],
        int(body.get("sellers", 0)),
        int(body.get("lines", 0)),
        Decimal(body["earnings"]),
        int(body.get("adjustment_lines", 0)),
        Decimal(body["adjustments"]),
        Decimal(body["total"]),
        int(body.get("payouts_created", 0)),
        int(body.get("payouts_krw", 0)),
        body["currency"],
    )


def _refused(reply: object, code: int, *words: str) -> None:
    assert isinstance(reply, dict) and reply["code"] == code, reply
    for word in words:
        assert word in reply["message"], (word, reply)


@pytest.fixture(scope="module")
def world(mesh):
    world = World(mesh)
    with world.engine.begin() as conn:
        conn.execute(sa.insert(payout_minimums).values(effective_from=MINIMUM_FROM, minimum_krw=MINIMUM_KRW))
    try:
        current = world.current_days()
        world.ingest(world.initial_plays())
        yield world
        # Plays into 2011 made every day computed after them stale: compute them again.
        status, events = mesh.run_job({"job": "daily"}, world.admin)
        assert status == 200 and events[-1]["type"] == "JOB_FINISHED", events
        assert world.current_days() >= current
    finally:
        with world.engine.begin() as conn:
            conn.execute(sa.delete(payout_minimums).where(payout_minimums.c.effective_from == MINIMUM_FROM))
        world.engine.dispose()


def test_a_month_is_not_closed_before_its_days_are_computed_or_it_ended_and_bad_months_are_400(mesh, world):
    before = world.counts()
    for month in ("2011-13", "2011-1", "", "abcd-ef"):
        status, reply = mesh.json("POST", "/v1/settlement/closings", {"month": month}, token=world.admin)
        assert status == 400, (month, reply)
        _refused(reply, INVALID_ARGUMENT, "month")
        assert mesh.last_headers.get("content-type") == "application/json"
        assert world.counts() == before
    assert not world.batch_ran and not world.model.closed, "the module's first test: January was never computed"
    status, reply = world.close(JAN)
    assert status == 400, reply
    jan_days = ", ".join(str(d) for d in PLAY_DAYS if d < FEB)
    _refused(reply, FAILED_PRECONDITION, "2011-01", jan_days, "not computed")
    assert world.counts() == before
    # Before any close (once a month is closed, any other month is out of order first).
    this_month = dt.datetime.now(world.zone).date().replace(day=1)
    status, reply = world.close(this_month)
    assert status == 400, reply
    _refused(reply, FAILED_PRECONDITION, "has not ended")
    assert world.counts() == before
    status, reply = mesh.json("GET", "/v1/settlement/closings/2011-03/pending-adjustments", token=world.admin)
    assert status == 404, reply
    _refused(reply, NOT_FOUND, "2011-03 is not closed")
    status, reply = mesh.json("GET", "/v1/settlement/closings/2011-13/pending-adjustments", token=world.admin)
    assert status == 400, reply
    _refused(reply, INVALID_ARGUMENT, "month")
    assert world.counts() == before


def test_the_lifecycle_close_read_late_play_pending_adjustments_and_the_next_close(mesh, world):
    assert not world.model.closed, "this test closes January itself"
    world.run_batch()
    before = world.counts()
    estimate = world.statement("A", "MONTHLY", JAN)
    assert world.statement("A", "MONTHLY", JAN) == estimate  # served from the cache now
    assert estimate["status"] == "OPEN" and "closed_at" not in estimate
    assert _lines(estimate) == world.expected_lines("A", JAN)

    status, jan = world.close(JAN)
    assert status == 200, jan
    model = world.model
    earnings = [e for e in model.entries if e[1] == "EARNING"]
    jan_payouts = [amount for (_, month), (amount, _) in model.payouts.items() if month == JAN]
    assert _closing_figures(jan) == (
        "2011-01",
        len({e[0] for e in earnings}),
        len(earnings),
        sum((e[6] for e in earnings), Decimal(0)),
        0,
        Decimal(0),
        sum((e[6] for e in earnings), Decimal(0)),
        len(jan_payouts),
        sum(jan_payouts),
        "KRW",
    )
    assert len(jan_payouts) == 2  # A and B; C's balance is below the minimum and rolls over
    assert jan["closed_at"].endswith("Z")
    assert world.counts() == {
        "month_closings": before["month_closings"] + 1,
        "ledger_entries": before["ledger_entries"] + len(earnings) + len(jan_payouts),
        "payouts": before["payouts"] + len(jan_payouts),
    }
    after_close = world.counts()
    status, again = world.close(JAN)
    assert (status, again) == (200, jan)  # the same closing, nothing new
    assert world.counts() == after_close
    listed = world.get("/v1/settlement/closings")["closings"]
    assert [c for c in listed if c["month"].startswith("2011")] == [jan]

    status, reply = world.close(MAR)
    assert status == 409, reply
    _refused(reply, ALREADY_EXISTS, "2011-02")
    assert world.counts() == after_close

    jan_plays = list(world.plays)
    closed_month = world.statement("A", "MONTHLY", JAN)
    assert (closed_month["status"], closed_month["closed_at"]) == ("CLOSED", jan["closed_at"])
    assert _lines(closed_month) == world.expected_lines("A", JAN)
    assert Decimal(closed_month["total"]) == sum((line[5] for line in _lines(closed_month)), Decimal(0))
    assert closed_month.get("adjustments", []) == []
    closed_day = world.statement("A", "DAILY", dt.date(2011, 1, 31))
    assert (closed_day["status"], closed_day["closed_at"]) == ("CLOSED", jan["closed_at"])
    open_month = world.statement("A", "MONTHLY", FEB)
    assert open_month["status"] == "OPEN" and "closed_at" not in open_month
    closed_week = world.statement("A", "WEEKLY", dt.date(2011, 1, 12))  # Mon 10 .. Sun 16 Jan
    assert (closed_week["status"], closed_week["closed_at"]) == ("CLOSED", jan["closed_at"])
    boundary_week = world.statement("A", "WEEKLY", dt.date(2011, 1, 31))  # Mon 31 Jan .. Sun 6 Feb
    assert boundary_week["status"] == "OPEN" and "closed_at" not in boundary_week
    newcomer, newcomer_token = mesh.sign_up_and_login("SELLER")  # no lines: closed all the same
    empty = world.get(f"/v1/sellers/{newcomer}/settlements?period=MONTHLY&date=2011-01-15", newcomer_token)
    assert (empty["status"], empty["closed_at"], empty.get("lines", []), Decimal(empty["total"])) == (
        "CLOSED",
        jan["closed_at"],
        [],
        0,
    )
    assert _lines(open_month) == world.expected_lines("A", FEB)

    for name in "ABC":
        seller_id, token = world.sellers[name]
        balance = world.get(f"/v1/sellers/{seller_id}/balance", token)
        expected = model.balance(seller_id)
        assert Decimal(balance["balance"]) == expected, name
        assert int(balance.get("minimum_payout_krw", 0)) == MINIMUM_KRW
        assert int(balance.get("payable_krw", 0)) == (int(expected) if expected >= MINIMUM_KRW else 0)
        assert balance["currency"] == "KRW"
        assert _entries(world.ledger(name, JAN, MAR)) == world.model_entries(name), name
        payouts = world.get(f"/v1/sellers/{seller_id}/payouts", token).get("payouts", [])
        wanted = [amount for (s, _), (amount, _) in model.payouts.items() if s == seller_id]
        assert [(p["month"], int(p["amount_krw"]), p["status"]) for p in payouts] == [
            ("2011-01", amount, "PENDING") for amount in wanted
        ]
    assert world.ledger("A", FEB, MAR) == []  # nothing is posted in February yet
    c_balance = model.balance(world.seller_id("C"))
    assert 0 < c_balance < MINIMUM_KRW

    # 23:59:50 on January's last day: the Feb 1 00:00:10 play of the same viewer becomes a repeat.
    world.ingest([world.late_play()])
    assert world.statement("A", "MONTHLY", JAN) == closed_month
    status, reply = world.close(FEB)
    assert status == 400, reply
    _refused(reply, FAILED_PRECONDITION, "2011-02-01")  # Jan 31 is stale, so every later day
    assert world.counts() == after_close
    world.run_batch()

    assert world.statement("A", "MONTHLY", JAN) == closed_month  # frozen, whatever the batch says now
    assert world.statement("A", "DAILY", dt.date(2011, 1, 31)) == closed_day
    assert world.expected_lines("A", JAN) != world.expected_lines("A", JAN, jan_plays)  # the play did count
    moved = world.statement("A", "MONTHLY", FEB)
    assert moved != open_month and _lines(moved) == world.expected_lines("A", FEB)

    expected_pending = {}
    for (start, video_id), row in world.monthly().items():
        if start == JAN:
            difference = row.video_revenue + row.ad_revenue - model.held(JAN, video_id)
            if difference:
                expected_pending[(row.seller_id, video_id)] = difference
    assert expected_pending
    pending = world.get("/v1/settlement/closings/2011-01/pending-adjustments")
    assert pending["month"] == "2011-01"
    assert {(int(p["seller_id"]), int(p["video_id"])): Decimal(p["difference"]) for p in pending["adjustments"]} == (
        expected_pending
    )
    for p in pending["adjustments"]:
        assert Decimal(p["in_ledger"]) == model.held(JAN, int(p["video_id"]))
        assert Decimal(p["computed"]) - Decimal(p["in_ledger"]) == Decimal(p["difference"])
    assert Decimal(pending["total"]) == sum(expected_pending.values(), Decimal(0))
    assert world.counts() == after_close  # looking changes nothing

    status, feb = world.close(FEB)
    assert status == 200, feb
    feb_earnings = [e for e in model.entries if e[1] == "EARNING" and e[2] == FEB]
    feb_adjustments = [e for e in model.entries if e[1] == "ADJUSTMENT" and e[2] == FEB]
    feb_payouts = [amount for (_, month), (amount, _) in model.payouts.items() if month == FEB]
    assert len(feb_adjustments) == len(expected_pending)
    earned = sum((e[6] for e in feb_earnings), Decimal(0))
    adjusted = sum((e[6] for e in feb_adjustments), Decimal(0))
    assert _closing_figures(feb) == (
        "2011-02",
        len({e[0] for e in feb_earnings + feb_adjustments}),
        len(feb_earnings),
        earned,
        len(feb_adjustments),
        adjusted,
        earned + adjusted,
        len(feb_payouts),
        sum(feb_payouts),
        "KRW",
    )
    assert adjusted == sum(expected_pending.values(), Decimal(0))
    listed = world.get("/v1/settlement/closings")["closings"]
    assert [c for c in listed if c["month"].startswith("2011")] == [feb, jan]  # newest first

    feb_statement = world.statement("A", "MONTHLY", FEB)
    assert (feb_statement["status"], feb_statement["closed_at"]) == ("CLOSED", feb["closed_at"])
    assert _lines(feb_statement) == world.expected_lines("A", FEB)
    adjustments = {
        (a["original_month"], int(a["video_id"])): Decimal(a["amount"]) for a in feb_statement["adjustments"]
    }
    assert adjustments == {("2011-01", v): d for (s, v), d in expected_pending.items() if s == world.seller_id("A")}
    total = sum((line[5] for line in _lines(feb_statement)), Decimal(0)) + sum(adjustments.values(), Decimal(0))
    assert Decimal(feb_statement["total"]) == total and int(feb_statement["payable_krw"]) == int(total)
    assert world.statement("A", "MONTHLY", JAN) == closed_month
    boundary_week = world.statement("A", "WEEKLY", dt.date(2011, 1, 31))
    assert (boundary_week["status"], boundary_week["closed_at"]) == ("CLOSED", feb["closed_at"])
    assert world.get("/v1/settlement/closings/2011-01/pending-adjustments").get("adjustments", []) == []
    for name in "ABC":
        seller_id, token = world.sellers[name]
        assert _entries(world.ledger(name, JAN, MAR)) == world.model_entries(name), name
        assert _entries(world.ledger(name, FEB, FEB, page_size=2)) == world.model_entries(name, FEB, FEB), name
        balance = world.get(f"/v1/sellers/{seller_id}/balance", token)
        assert Decimal(balance["balance"]) == model.balance(seller_id), name
    # Every closed month's EARNING + ADJUSTMENT now equals a recomputation from the raw plays.
    for (start, video_id), row in world.monthly().items():
        assert model.held(start, video_id) == row.video_revenue + row.ad_revenue


def _approve_raw(mesh, month: str, token: str, key: str | None = None) -> tuple[int, str]:
    headers = {"Idempotency-Key": key} if key is not None else None
    return mesh.request("POST", f"/v1/settlement/closings/{month}:approve", {}, token, headers=headers)


def test_maker_checker_the_closer_cannot_approve_marks_wait_for_another_admin_and_approving_twice_answers_the_same(
    mesh, world
):
    world.close_through(FEB)
    a_id, a_token = world.sellers["A"]
    jan = next(p for p in world.get(f"/v1/sellers/{a_id}/payouts", a_token)["payouts"] if p["month"] == "2011-01")
    assert jan["status"] == "PENDING"
    before = world.counts()
    status, reply = mesh.json(
        "POST", f"/v1/payouts/{jan['payout_id']}:mark", {"status": "PAID", "reference": "early"}, token=world.admin
    )
    assert status == 409, reply
    _refused(reply, ALREADY_EXISTS, "payout is PENDING: only an APPROVED payout can be marked PAID or FAILED")
    status, reply = world.approve(JAN, token=world.admin)  # the admin who closed January
    assert status == 403, reply
    _refused(reply, PERMISSION_DENIED, "the admin who closed 2011-01 cannot approve its payouts; another admin must")
    status, reply = world.approve(MAR)  # not closed: there is nothing to approve
    assert status == 404, reply
    _refused(reply, NOT_FOUND, "2011-03 is not closed")
    assert world.counts() == before

    status, first = _approve_raw(mesh, "2011-01", world.checker)
    assert status == 200, first
    world.model.approve(JAN)
    approved = json.loads(first)
    assert (approved["month"], approved["closed_by"], approved["approved_by"]) == (
        "2011-01",
        str(world.admin_id),
        str(world.checker_id),
    )
    assert approved["approved_at"] and approved["payouts_created"] == world.closings[JAN]["payouts_created"]
    status, again = _approve_raw(mesh, "2011-01", world.checker)
    assert (status, again) == (200, first)  # idempotent: the same answer, nothing changed
    assert world.counts() == before  # approving posts no entry and creates no payout
    for name in "ABC":
        seller_id = world.seller_id(name)
        for p in world.get(f"/v1/sellers/{seller_id}/payouts")["payouts"]:
            wanted = world.model.payouts[(seller_id, dt.date.fromisoformat(p["month"] + "-01"))][1]
            assert p["status"] == wanted == ("APPROVED" if p["month"] == "2011-01" else "PENDING"), p
    listed = {c["month"]: c for c in world.get("/v1/settlement/closings")["closings"]}
    # ListClosings adds the bank transfer files (docs/ledger.md "The bank transfer file"): none
    # downloaded yet, so every approved payout is in no file.
    transfer_fields = {"transfer_files", "transfer_file_sha256", "transfer_rows", "transfer_total_krw"}
    jan = listed["2011-01"]
    assert [jan.get(k) for k in sorted(transfer_fields)] in ([None] * 4, ["", [], "0", "0"])
    in_jan = [status for (_, month), (_, status) in world.model.payouts.items() if month == JAN]
    assert int(jan.pop("approved_not_in_file", "0")) == in_jan.count("APPROVED") > 0
    transfer_fields.add("approved_not_in_file")
    assert {k: v for k, v in jan.items() if k not in transfer_fields} == {
        k: v for k, v in approved.items() if k not in transfer_fields
    }
    assert listed["2011-02"].get("approved_by", "0") == "0" and "approved_at" not in listed["2011-02"]


def test_an_idempotency_key_replays_the_same_bytes_refuses_another_request_and_runs_concurrent_twins_once(mesh, world):
    world.close_through(FEB)
    key = f"approve-feb-{world.checker_id}"
    # Concurrent identical approvals of February with one key: one runs, every reply is its bytes.
    barrier, replies = threading.Barrier(6), []

    def approve() -> None:
        barrier.wait(10)
        replies.append(_approve_raw(mesh, "2011-02", world.checker, key))

    threads = [threading.Thread(target=approve) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(replies) == 6 and replies[0][0] == 200, replies
    assert len(set(replies)) == 1, replies
    world.model.approve(FEB)
    with world.engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT COUNT(*) FROM idempotency_keys WHERE account_id = :a AND idem_key = :k"),
            {"a": world.checker_id, "k": key},
        ).scalar_one()
    assert stored == 1
    # The same key on another request (another month, another method) is refused; a key that
    # is too long is bad input. Nothing is stored for either.
    for method, path, body in (
        ("POST", "/v1/settlement/closings/2011-01:approve", {}),
        ("POST", "/v1/settlement/closings", {"month": "2011-02"}),
    ):
        status, reply = mesh.json(method, path, body, token=world.checker, headers={"Idempotency-Key": key})
        assert status == 409, reply
        _refused(reply, ALREADY_EXISTS, f"Idempotency-Key {key!r} was already used with another request")
    status, reply = _approve_raw(mesh, "2011-02", world.checker, "k" * 256)
    assert status == 400, reply
    _refused(json.loads(reply), INVALID_ARGUMENT, "Idempotency-Key: must be 1 to 255 characters")

    # A mark with a key: the replay gives the same bytes and posts no second reversal.
    a_id, a_token = world.sellers["A"]
    payout = next(p for p in world.get(f"/v1/sellers/{a_id}/payouts", a_token)["payouts"] if p["month"] == "2011-02")
    path, mark = f"/v1/payouts/{payout['payout_id']}:mark", {"status": "FAILED", "reference": "closed account"}
    before = world.counts()
    status, first = mesh.request("POST", path, mark, world.admin, headers={"Idempotency-Key": "mark-a-feb"})
    assert status == 200, first
    world.model.mark((a_id, FEB), "FAILED")
    after = world.counts()
    assert after == {**before, "ledger_entries": before["ledger_entries"] + 1}  # its PAYOUT_REVERSAL
    status, again = mesh.request("POST", path, mark, world.admin, headers={"Idempotency-Key": "mark-a-feb"})
    assert (status, again) == (200, first) and world.counts() == after
    other = {"status": "PAID", "reference": "closed account"}
    status, reply = mesh.json("POST", path, other, token=world.admin, headers={"Idempotency-Key": "mark-a-feb"})
    assert status == 409 and world.counts() == after, reply
    assert Decimal(world.get(f"/v1/sellers/{a_id}/balance", a_token)["balance"]) == world.model.balance(a_id)


def test_marking_a_payout_paid_is_idempotent_a_conflict_is_409_and_a_failed_payout_returns_the_money(mesh, world):
    world.approve_through(FEB)
    model = world.model
    a_id, a_token = world.sellers["A"]
    b_id, b_token = world.sellers["B"]
    a_payouts = world.get(f"/v1/sellers/{a_id}/payouts", a_token)["payouts"]
    b_payouts = world.get(f"/v1/sellers/{b_id}/payouts", b_token)["payouts"]
    paid = next(p for p in a_payouts if p["month"] == "2011-01")
    failed = next(p for p in b_payouts if p["status"] == "APPROVED")
    before = world.counts()

    path = f"/v1/payouts/{paid['payout_id']}:mark"
    status, done = mesh.json("POST", path, {"status": "PAID", "reference": "BANK-2011-01-A"}, token=world.admin)
    assert status == 200, done
    assert (done["payout_id"], done["status"], done["reference"]) == (paid["payout_id"], "PAID", "BANK-2011-01-A")
    assert (done["amount_krw"], done["month"], done["seller_id"]) == (paid["amount_krw"], "2011-01", str(a_id))
    model.mark((a_id, JAN), "PAID")
    marked = world.counts()
    assert marked == before  # PAID posts nothing: the PAYOUT entry was posted at close
    status, again = mesh.json("POST", path, {"status": "PAID", "reference": "BANK-2011-01-A"}, token=world.admin)
    assert (status, again) == (200, done)  # idempotent: the same payout, updated_at unchanged
    for body in ({"status": "PAID", "reference": "BANK-OTHER"}, {"status": "FAILED", "reference": "bounced"}):
        status, reply = mesh.json("POST", path, body, token=world.admin)
        assert status == 409, reply
        _refused(reply, ALREADY_EXISTS, "already PAID")
        assert world.counts() == marked
    refused_bodies = (
        ({"status": "PAID"}, "reference"),
        ({"status": "PENDING", "reference": "x"}, "status"),
        # A NUL was stored and cut the reference in the CSV files; a right-to-left override
        # shows it in another order than stored (domain/text.py).
        ({"status": "PAID", "reference": "BANK\u0000-1"}, "reference"),
        ({"status": "PAID", "reference": "TX\u202e1-KNAB"}, "reference"),
    )
    for body, field in refused_bodies:
        status, reply = mesh.json("POST", path, body, token=world.admin)
        assert status == 400, reply
        _refused(reply, INVALID_ARGUMENT, field)
    listed = {p["payout_id"]: p for p in world.get(f"/v1/sellers/{a_id}/payouts", a_token)["payouts"]}
    assert listed[paid["payout_id"]] == done  # the refused marks changed nothing
    status, reply = mesh.json(
        "POST", "/v1/payouts/987654321987:mark", {"status": "PAID", "reference": "x"}, token=world.admin
    )
    assert status == 404, reply
    _refused(reply, NOT_FOUND, "987654321987")
    assert world.counts() == marked
    assert Decimal(world.get(f"/v1/sellers/{a_id}/balance", a_token)["balance"]) == model.balance(a_id)

    balance_before = Decimal(world.get(f"/v1/sellers/{b_id}/balance", b_token)["balance"])
    status, returned = mesh.json(
        "POST",
        f"/v1/payouts/{failed['payout_id']}:mark",
        {"status": "FAILED", "reference": "bounced"},
        token=world.admin,
    )
    assert status == 200, returned
    assert (returned["status"], returned["reference"]) == ("FAILED", "bounced")
    model.mark((b_id, dt.date.fromisoformat(failed["month"] + "-01")), "FAILED")
    balance = world.get(f"/v1/sellers/{b_id}/balance", b_token)
    assert Decimal(balance["balance"]) == balance_before + int(failed["amount_krw"]) == model.balance(b_id)
    assert world.counts() == {**marked, "ledger_entries": marked["ledger_entries"] + 1}  # one PAYOUT_REVERSAL
    reversal = [e for e in world.ledger("B", JAN, MAR) if e["kind"] == "PAYOUT_REVERSAL"]
    assert [(e["payout_id"], Decimal(e["amount"]), e["posted_month"]) for e in reversal] == [
        (failed["payout_id"], Decimal(failed["amount_krw"]), failed["month"])
    ]
    assert _entries(world.ledger("B", JAN, MAR)) == world.model_entries("B")
    listed = {p["payout_id"]: p["status"] for p in world.get(f"/v1/sellers/{b_id}/payouts", b_token)["payouts"]}
    assert listed[failed["payout_id"]] == "FAILED"


def _race(mesh, token: str, path: str, marks: list[tuple[str, str]]) -> list[tuple[tuple[str, str], int, dict]]:
    """The marks sent at once, one thread each: (mark, HTTP status, body) of every reply."""
    barrier = threading.Barrier(len(marks))
    replies = []

    def mark(wanted: tuple[str, str]) -> None:
        barrier.wait(10)
        status, body = mesh.json("POST", path, {"status": wanted[0], "reference": wanted[1]}, token=token)
        replies.append((wanted, status, body))

    threads = [threading.Thread(target=mark, args=(m,)) for m in marks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(replies) == len(marks)
    return replies


def test_concurrent_marks_of_one_payout_settle_it_once(mesh, world):
    world.approve_through(FEB)
    model = world.model
    pending = [
        p
        for name in "AB"
        for p in world.get(f"/v1/sellers/{world.seller_id(name)}/payouts")["payouts"]
        if p["status"] == "APPROVED"
    ]
    assert pending
    for payout in pending:
        marks = [("PAID", "race-1"), ("FAILED", "race-2"), ("PAID", "race-3"), ("PAID", "race-1"), ("FAILED", "race-2")]
        replies = _race(mesh, world.admin, f"/v1/payouts/{payout['payout_id']}:mark", marks)
        won = [(wanted, body) for wanted, status, body in replies if status == 200]
        assert won, replies
        winner = won[0][0]
        assert {(body["status"], body["reference"]) for _, body in won} == {winner}
        for wanted, status, body in replies:  # the winner's twins are 200, every other mark 409
            assert (status, wanted == winner) in ((200, True), (409, False)), (wanted, status, body)
            if status == 409:
                _refused(body, ALREADY_EXISTS, "already")
        seller_id = int(payout["seller_id"])
        model.mark((seller_id, dt.date.fromisoformat(payout["month"] + "-01")), winner[0])
        with world.engine.connect() as conn:
            reversals = conn.execute(
                sa.text("SELECT COUNT(*) FROM ledger_entries WHERE kind = 'PAYOUT_REVERSAL' AND payout_id = :p"),
                {"p": int(payout["payout_id"])},
            ).scalar_one()
        assert reversals == (1 if winner[0] == "FAILED" else 0)
        balance = world.get(f"/v1/sellers/{seller_id}/balance")
        assert Decimal(balance["balance"]) == model.balance(seller_id)


def test_each_payout_lists_the_entries_it_pays_in_json_and_csv_and_they_reconcile_with_the_model(mesh, world):
    world.approve_through(FEB)
    b_id, b_token = world.sellers["B"]
    for name in "AB":
        seller_id, token = world.sellers[name]
        for p in world.get(f"/v1/sellers/{seller_id}/payouts", token)["payouts"]:
            key = (seller_id, dt.date.fromisoformat(p["month"] + "-01"))
            paid = world.get(f"/v1/payouts/{p['payout_id']}/entries", token)
            total, carried_in, carried_out = (Decimal(paid[f]) for f in ("total", "carried_in", "carried_out"))
            assert (total, carried_in, carried_out) == world.model.paid(key), (name, p)
            assert total + carried_in == int(p["amount_krw"]) + carried_out
            assert sum((Decimal(e["amount"]) for e in paid["entries"]), Decimal(0)) == total
            assert {e["kind"] for e in paid["entries"]} <= {"EARNING", "ADJUSTMENT", "PAYOUT_REVERSAL"}
            status, text = mesh.request("GET", f"/v1/payouts/{p['payout_id']}/entries:csv", None, world.admin)
            assert status == 200, text
            rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
            by_kind = {row[0]: row for row in rows[1:] if row[0] in ("TOTAL", "CARRIED_IN", "PAYOUT", "CARRIED_OUT")}
            assert len(rows) == 1 + len(paid["entries"]) + 4
            assert Decimal(by_kind["TOTAL"][8]) + Decimal(by_kind["CARRIED_IN"][8]) == Decimal(
                by_kind["PAYOUT"][8]
            ) + Decimal(by_kind["CARRIED_OUT"][8])
            if name == "A":
                status, reply = mesh.json("GET", f"/v1/payouts/{p['payout_id']}/entries", token=b_token)
                assert status == 403, reply
                _refused(reply, PERMISSION_DENIED)
    status, reply = mesh.json("GET", "/v1/payouts/987654321987/entries", token=world.admin)
    assert status == 404, reply
    _refused(reply, NOT_FOUND, "987654321987")


def test_a_seller_sees_only_their_own_money_and_only_admins_close_mark_or_list_closings(mesh, world):
    world.close_through(JAN)
    a_id, a_token = world.sellers["A"]
    b_id, b_token = world.sellers["B"]
    viewer = world.viewers[0][1]
    payout_id = world.get(f"/v1/sellers/{a_id}/payouts", a_token)["payouts"][0]["payout_id"]
    before = world.counts()
    for what in ("balance", "ledger?from=2011-01&to=2011-03", "payouts"):
        assert world.get(f"/v1/sellers/{a_id}/{what}", a_token)  # their own: 200
        for owner, token in ((b_id, a_token), (a_id, b_token), (a_id, viewer)):
            status, reply = mesh.json("GET", f"/v1/sellers/{owner}/{what}", token=token)
            assert status == 403, (what, reply)
            _refused(reply, PERMISSION_DENIED)
        status, reply = mesh.json("GET", f"/v1/sellers/{a_id}/{what}")
        assert status == 401, (what, reply)
        _refused(reply, UNAUTHENTICATED)
    calls = [
        ("POST", "/v1/settlement/closings", {"month": "2011-03"}),
        ("GET", "/v1/settlement/closings", None),
        ("GET", "/v1/settlement/closings/2011-01/pending-adjustments", None),
        ("POST", f"/v1/payouts/{payout_id}:mark", {"status": "FAILED", "reference": "mine"}),
        ("POST", "/v1/settlement/closings/2011-01:approve", {}),
    ]
    for method, path, body in calls:
        for token in (a_token, viewer):
            status, reply = mesh.json(method, path, body, token=token)
            assert status == 403, (method, path, reply)
            _refused(reply, PERMISSION_DENIED)
        status, reply = mesh.json(method, path, body)
        assert status == 401, (method, path, reply)
        _refused(reply, UNAUTHENTICATED)
    assert world.counts() == before
    status, _ = mesh.json("GET", "/v1/settlement/closings", token=world.admin)
    assert status == 200
    assert world.get(f"/v1/sellers/{b_id}/balance")["seller_id"] == str(b_id)  # an admin sees anyone's


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2011-02&to=2011-01", "to"),
        ("from=2001-01&to=2011-02", "120 months"),
        ("from=2011-01&to=2011-03&page_size=5000", "page_size"),
        ("from=2011-01&to=2011-03&page_size=-1", "page_size"),
        ("from=2011-01&to=2011-03&page_token=forged", "page_token"),
        ("from=2011-01&to=2011-03&page_token=bDE6MA", "page_token"),  # "l1:0"
        ("from=2011-01&to=2011-03&page_token=djE6NQ", "page_token"),  # "v1:5": another list's
        ("from=2011-01&to=2011-03&page_token=bDE6OTIyMzM3MjAzNjg1NDc3NTgwOA", "page_token"),  # "l1:" 2**63
        ("from=2011-13&to=2011-03", "from"),
        ("to=2011-03", "from"),
    ],
)
def test_a_bad_ledger_request_is_a_json_400(mesh, world, query, field):
    seller_id, token = world.sellers["A"]
    before = world.counts()
    status, reply = mesh.json("GET", f"/v1/sellers/{seller_id}/ledger?{query}", token=token)
    assert status == 400, reply
    _refused(reply, INVALID_ARGUMENT, field)
    assert mesh.last_headers.get("content-type") == "application/json"
    assert world.counts() == before


def test_a_range_of_exactly_120_months_is_allowed(mesh, world):
    seller_id, token = world.sellers["A"]
    body = world.get(f"/v1/sellers/{seller_id}/ledger?from=2001-04&to=2011-03", token)
    assert _entries(body.get("entries", [])) == world.model_entries("A")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/settlement/closings", {"month": 201101}, "month"),
        ("/v1/settlement/closings", {"month": "0000-12"}, "month"),
        ("/v1/settlement/closings", {"month": "2011-01-01"}, "month"),
        ("/v1/settlement/closings", {"month": " 2011-01"}, "month"),
        ("/v1/payouts/abc:mark", {"status": "PAID", "reference": "x"}, "payout_id"),
        ("/v1/payouts/0:mark", {"status": "PAID", "reference": "x"}, "payout_id"),
        ("/v1/payouts/1:mark", {"status": "PAID", "reference": "   "}, "reference"),
        ("/v1/payouts/1:mark", {"status": "PAID", "reference": "x" * 129}, "reference"),
        ("/v1/payouts/1:mark", {"status": "SETTLED", "reference": "x"}, "status"),
        ("/v1/payouts/1:mark", {"reference": "x"}, "status"),
    ],
)
def test_a_bad_close_or_mark_is_a_json_400_and_nothing_changes(mesh, world, path, body, field):
    before = world.counts()
    with world.engine.connect() as conn:
        marks = conn.execute(sa.text("SELECT payout_id, status, reference FROM payouts ORDER BY payout_id")).all()
    status, reply = mesh.json("POST", path, body, token=world.admin)
    assert status == 400, reply
    _refused(reply, INVALID_ARGUMENT, field)
    assert world.counts() == before
    with world.engine.connect() as conn:
        assert (
            conn.execute(sa.text("SELECT payout_id, status, reference FROM payouts ORDER BY payout_id")).all() == marks
        )


def test_payout_profiles_are_masked_and_guarded_and_payouts_show_the_reference_taxes(mesh, world):
    world.close_through(FEB)
    (a_id, a_token), (b_id, b_token) = world.sellers["A"], world.sellers["B"]
    path = f"/v1/sellers/{a_id}/payout-profile"
    status, own = mesh.json("GET", path, token=a_token)
    assert status == 200, own
    assert (own["legal_name"], own["tax_type"], own["bank_code"]) == ("Kim Minji", "INDIVIDUAL", "004")
    assert own["account_number"] == "********7890"  # 110234567890, masked
    assert mesh.json("GET", path, token=world.admin) == (200, own)  # admins read
    status, reply = mesh.json("GET", path, token=b_token)  # another seller
    assert status == 403, reply
    _refused(reply, PERMISSION_DENIED)
    assert mesh.json("GET", path)[0] == 401
    with world.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT * FROM payout_profiles ORDER BY seller_id")).all()
    for token, body, code, field in [
        (world.admin, PROFILES["A"], 403, ""),  # admins read, never write, where money goes
        (b_token, PROFILES["B"], 403, ""),
        (a_token, {**PROFILES["A"], "bank_code": "4"}, 400, "bank_code"),
        (a_token, {**PROFILES["A"], "business_number": "1208810004"}, 400, "business_number"),
        (a_token, {**PROFILES["B"], "business_number": "120-88-10005"}, 400, "business_number"),
        (a_token, {**PROFILES["A"], "legal_name": "\u3164"}, 400, "legal_name"),
        (a_token, {**PROFILES["A"], "account_number": "12-34"}, 400, "account_number"),
    ]:
        status, reply = mesh.json("PUT", path, body, token=token)
        assert status == code, (body, reply)
        assert field in reply["message"]
    with world.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT * FROM payout_profiles ORDER BY seller_id")).all() == stored

    # One payout with its breakdown: the gross as in the ledger, taxes as the integer reference.
    for name, kind in (("A", "INDIVIDUAL"), ("B", "BUSINESS")):
        seller_id, token = world.sellers[name]
        for listed in world.get(f"/v1/sellers/{seller_id}/payouts", token)["payouts"]:
            one = world.get(f"/v1/payouts/{listed['payout_id']}", token)
            assert one == listed and one["tax_type"] == kind
            income, local, vat, net = reference.payout_taxes(int(one["amount_krw"]), kind)
            assert one["gross_krw"] == one["amount_krw"]
            assert [one[k] for k in ("income_tax_krw", "local_income_tax_krw", "vat_krw", "net_krw")] == [
                str(income),
                str(local),
                str(vat),
                str(net),
            ]
    status, reply = mesh.json("GET", f"/v1/payouts/{listed['payout_id']}", token=a_token)
    assert status == 403, reply

    # The yearly summary: per month the sums of the payouts that are not FAILED (B's failed one
    # is left out: its money returned to the balance).
    for name, kind in (("A", "INDIVIDUAL"), ("B", "BUSINESS")):
        seller_id, token = world.sellers[name]
        status, headers, data = _raw(mesh, f"/v1/sellers/{seller_id}/tax-summary:csv?year=2011", token)
        assert status == 200, data
        assert headers["content-type"] == "text/csv; charset=utf-8"
        assert headers.get("x-content-type-options") == "nosniff"
        rows = [line.split(",") for line in data.decode("utf-8").lstrip("\ufeff").split("\r\n") if line]
        assert rows[0] == [
            "month",
            "gross_krw",
            "income_tax_krw",
            "local_income_tax_krw",
            "vat_krw",
            "net_krw",
            "currency",
        ]
        expected = {}
        for (payee, month), (amount, status_) in world.model.payouts.items():
            if payee == seller_id and status_ != "FAILED":
                income, local, vat, net = reference.payout_taxes(amount, kind)
                expected[f"{month:%Y-%m}"] = [str(amount), str(income), str(local), str(vat), str(net), "KRW"]
        assert {r[0]: r[1:] for r in rows[1:13] if r[1] != "0"} == expected, name
        assert expected or name == "B", name  # A's January payout was PAID
        assert [r[0] for r in rows[1:]] == [f"2011-{m:02d}" for m in range(1, 13)] + ["TOTAL"]
    assert _raw(mesh, f"/v1/sellers/{b_id}/tax-summary:csv?year=2011", a_token)[0] == 403
    assert _raw(mesh, f"/v1/sellers/{b_id}/tax-summary:csv?year=11", b_token)[0] == 400

    # B's tax invoice of January: the payout's gross is the supply, issued on February 10th.
    b_january = world.model.payouts.get((b_id, JAN))
    invoices = world.get("/v1/settlement/closings/2011-01/tax-invoices").get("invoices", [])
    mine = [i for i in invoices if i["seller_id"] == str(b_id)]
    assert b_january and [(int(i["supply_krw"]), int(i["vat_krw"]), i["issue_date"]) for i in mine] == [
        (b_january[0], reference.payout_taxes(b_january[0], "BUSINESS")[2], "2011-02-10")
    ]
    assert mine[0]["seller_business_number"] == "1208810004"
    assert all(i["seller_id"] != str(a_id) for i in invoices)  # INDIVIDUAL sellers get none
    assert mesh.json("GET", "/v1/settlement/closings/2011-01/tax-invoices", token=b_token)[0] == 403
    assert mesh.json("GET", "/v1/settlement/closings/2010-12/tax-invoices", token=world.admin)[0] == 404


def _raw(mesh, path: str, token: str) -> tuple[int, dict, bytes]:
    """A GET's status, headers (lower-case names) and body bytes, as a CSV download reads them."""
    conn = http.client.HTTPConnection("127.0.0.1", mesh.settings.http_port, timeout=30)
    try:
        conn.request("GET", path, headers={"authorization": f"Bearer {token}"})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_tax_tables_are_scheduled_by_admins_after_today_and_listed(mesh, world):
    today = dt.datetime.now(world.zone).date()
    defaults = {
        "income_tax_rate": "0.03",
        "local_income_tax_rate": "0.1",
        "vat_rate": "0.1",
        "withholding_minimum_krw": "1000",
        "income_tax_unit_krw": "10",
        "local_income_tax_unit_krw": "10",
        "vat_unit_krw": "1",
        "platform_business_number": "1234567891",
    }
    listed = world.get("/v1/settlement/tax-tables")["tables"]
    assert listed[0] == {"effective_from": "1970-01-01", **defaults}  # the migration's defaults
    later = (today + dt.timedelta(days=400)).isoformat()  # other tests schedule nothing this far
    try:
        for body, code, field in [
            ({**defaults, "effective_from": today.isoformat()}, 400, "effective_from"),
            ({**defaults, "effective_from": later, "vat_rate": "1.5"}, 400, "vat_rate"),
            ({**defaults, "effective_from": later, "income_tax_unit_krw": "15"}, 400, "income_tax_unit_krw"),
        ]:
            status, reply = mesh.json("POST", "/v1/settlement/tax-tables", body, token=world.admin)
            assert status == code, reply
            _refused(reply, INVALID_ARGUMENT, field)
        seller_token = world.sellers["A"][1]
        wanted = {**defaults, "effective_from": later, "income_tax_rate": "0.033"}
        assert mesh.json("POST", "/v1/settlement/tax-tables", wanted, token=seller_token)[0] == 403
        assert mesh.json("GET", "/v1/settlement/tax-tables", token=seller_token)[0] == 403
        status, stored = mesh.json("POST", "/v1/settlement/tax-tables", wanted, token=world.admin)
        assert (status, stored) == (200, wanted)
        assert world.get("/v1/settlement/tax-tables")["tables"][-1] == wanted
    finally:
        with world.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM tax_rates WHERE effective_from > :today"), {"today": today})
