"""The bank transfer file and a month's payouts list through the real Envoy, in JSON (DESIGN
2b "Bank transfer file", issue 31 item 4; docs/ledger.md "The bank transfer file").

A closed and approved month's file: the same bytes on every download, its SHA-256 recorded on
the closing, only APPROVED payouts, net amounts from tests/reference.py (payout_taxes over
LedgerModel's payouts of the raw plays), account numbers unmasked only there; refusals before
the close, before the approval, for non-admins; a HELD payout released after the approval goes
into part 2, part 1 staying the same bytes; the month's payouts filtered by status and paged.

Months close in order and for every seller at once, so this module runs a mesh of its own per
storage (SQLite and MariaDB), as test_csv_export.py does. The tests run in order on one world.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import http.client
import io
from zoneinfo import ZoneInfo

import grpc
import pytest
import sqlalchemy as sa

from domain.periods import day_bounds_us
from services.common import db
from services.settlement.tables import payout_minimums
from tests import reference
from tests.databases import fresh_database
from tests.mesh import Mesh

FEB = dt.date(2016, 2, 1)
MONTH = "2016-02"
BOM = b"\xef\xbb\xbf"
BATCH = {"job": "daily", "date": "2016-02-01", "to_date": "2016-02-29", "rerun": True}
FILE = f"/v1/settlement/closings/{MONTH}/transfers:csv"
PAYOUTS = f"/v1/settlement/closings/{MONTH}/payouts"
# A and B have complete profiles at close (PENDING, then APPROVED); C sets theirs only after
# the approval (HELD, then released APPROVED: part 2). A's name starts like a formula.
PROFILES = {
    "A": {"legal_name": "@Kim Minji", "tax_type": "INDIVIDUAL", "bank_code": "004", "account_number": "110-234-567890"},
    "B": {
        "legal_name": "Studio B Co., Ltd.",
        "tax_type": "BUSINESS",
        "bank_code": "088",
        "account_number": "5512345678",
        "business_number": "120-88-10004",
    },
    "C": {"legal_name": "박서준", "tax_type": "INDIVIDUAL", "bank_code": "020", "account_number": "1002003004005"},
}
PLAYS_PER_SELLER = {"A": 9, "B": 6, "C": 4}
INVALID_ARGUMENT = grpc.StatusCode.INVALID_ARGUMENT.value[0]
NOT_FOUND = grpc.StatusCode.NOT_FOUND.value[0]
PERMISSION_DENIED = grpc.StatusCode.PERMISSION_DENIED.value[0]
FAILED_PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION.value[0]


class World:
    def __init__(self, mesh: Mesh) -> None:
        self.mesh = mesh
        self.zone = ZoneInfo(mesh.settings.timezone)
        self.admin_id, self.admin = mesh.create_admin()  # closes the month
        self.checker_id, self.checker = mesh.create_admin()  # approves it
        _, self.ingest = mesh.create_account_directly("INGEST")
        self.sellers = {name: mesh.sign_up_and_login("SELLER") for name in PROFILES}
        self.viewers = [mesh.sign_up_and_login("VIEWER")[0] for _ in range(3)]
        self.videos = {
            name: reference.Video(mesh.create_videos(token, 1, duration_sec=900)[0], seller_id, 900)
            for name, (seller_id, token) in self.sellers.items()
        }
        self.model = reference.LedgerModel(minimum_krw=1)
        self.plays: list[reference.Play] = []
        for name in "AB":
            self.put_profile(name)
        self.model.without_profile.add(self.sellers["C"][0])

    def put_profile(self, name: str) -> dict:
        seller_id, token = self.sellers[name]
        status, body = self.mesh.json("PUT", f"/v1/sellers/{seller_id}/payout-profile", PROFILES[name], token=token)
        assert status == 200, body
        self.model.set_profile(seller_id)
        return body

    def add_plays(self) -> None:
        # Hours apart per seller: a viewer's overlapping plays would not count.
        for index, (name, count) in enumerate(PLAYS_PER_SELLER.items()):
            video = self.videos[name]
            for k in range(count):
                day = FEB + dt.timedelta(days=2 + 3 * k)
                started = day_bounds_us(day, self.zone)[0] + (3_600 * (1 + 2 * index) + 97 * k) * 1_000_000
                play = reference.Play(
                    f"bank-{video.video_id}-{k}", video.video_id, self.viewers[k % 3], started, 0, 300 + 60 * k
                )
                self.plays.append(play)
        status, body = self.mesh.record_plays(self.plays, self.ingest)
        assert status == 200 and int(body["stored"]) == len(self.plays), body

    def monthly(self) -> dict:
        daily = reference.compute_daily(list(self.videos.values()), self.plays, self.zone)
        return reference.compute_periods(daily, "MONTHLY")

    def get(self, path: str, token: str | None = None) -> dict:
        status, body = self.mesh.json("GET", path, token=token or self.admin)
        assert status == 200, (path, body)
        return body

    def download(self, path: str = FILE, token: str | None = None) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.mesh.settings.http_port, timeout=60)
        try:
            conn.request("GET", path, headers={"authorization": f"Bearer {token or self.admin}"})
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    def closing(self) -> dict:
        (found,) = [c for c in self.get("/v1/settlement/closings")["closings"] if c["month"] == MONTH]
        return found

    def expected_rows(self, names: str) -> list[dict[str, str]]:
        """The TRANSFER rows of these sellers' APPROVED payouts, from the reference model."""
        payout_ids = {int(p["seller_id"]): p["payout_id"] for p in self.month_payouts("")}
        rows = []
        for name in names:
            seller_id = self.sellers[name][0]
            amount, status = self.model.payouts[(seller_id, FEB)]
            assert status == "APPROVED"
            profile = PROFILES[name]
            holder = profile["legal_name"]
            rows.append(
                {
                    "kind": "TRANSFER",
                    "payout_id": payout_ids[seller_id],
                    "seller_id": str(seller_id),
                    "bank_code": profile["bank_code"],
                    "account_number": profile["account_number"].replace("-", ""),
                    "account_holder": "'" + holder if holder[0] in "=+-@'" else holder,
                    "amount_krw": str(reference.payout_taxes(amount, profile["tax_type"])[3]),
                    "memo": f"PaySystem {MONTH}",
                }
            )
        return sorted(rows, key=lambda r: int(r["payout_id"]))

    def month_payouts(self, status: str, page_size: int = 0) -> list[dict]:
        found, token, pages = [], "", 0
        while True:
            query = f"?status={status}" if status else "?"
            query += f"&page_size={page_size}" if page_size else ""
            body = self.get(PAYOUTS + query + (f"&page_token={token}" if token else ""))
            found += body.get("payouts", [])
            pages += 1
            assert not page_size or len(body.get("payouts", [])) <= page_size
            token = body.get("next_page_token", "")
            if not token:
                return found
            assert pages < 50


def rows_of(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(BOM) and data.count(BOM) == 1
    return list(csv.DictReader(io.StringIO(data[len(BOM) :].decode("utf-8"), newline="")))


def refused(reply: object, code: int, *words: str) -> None:
    assert isinstance(reply, dict) and reply["code"] == code, reply
    for word in words:
        assert word in reply["message"], (word, reply)


def audited_downloads(world: World) -> list[dict]:
    return world.get("/v1/audit?action=bank_file.download").get("entries", [])


@pytest.fixture(scope="module", params=["sqlite", "mariadb"])
def world(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"bankfile-{request.param}")

    def run(mesh: Mesh):
        engine = db.make_engine(mesh.settings)
        try:
            with engine.begin() as conn:
                conn.execute(sa.insert(payout_minimums).values(effective_from=FEB, minimum_krw=1))
        finally:
            engine.dispose()
        world = World(mesh)
        world.add_plays()
        status, events = mesh.run_job(BATCH, world.admin)
        assert status == 200 and events[-1]["type"] == "JOB_FINISHED", events
        return world

    if request.param == "sqlite":
        with Mesh.on_free_ports(tmp / "mesh") as mesh:
            yield run(mesh)
        return
    with fresh_database("mariadb", "bankfile_mesh_", tmp) as url:
        with Mesh.on_free_ports(tmp / "mesh", db_url=url, redis_url="redis://127.0.0.1:6379/1") as mesh:
            yield run(mesh)


def test_refusals_before_the_close_and_the_approval_and_for_non_admins(world):
    mesh = world.mesh
    status, reply = mesh.json("GET", FILE, token=world.admin)
    assert status == 400, reply
    refused(reply, FAILED_PRECONDITION, "2016-02 is not closed")
    status, reply = mesh.json("GET", PAYOUTS, token=world.admin)
    assert status == 404, reply
    refused(reply, NOT_FOUND, "2016-02 is not closed")
    for bad in ("2016-13", "16-02", "abcd-ef"):
        for path in (f"/v1/settlement/closings/{bad}/transfers:csv", f"/v1/settlement/closings/{bad}/payouts"):
            status, reply = mesh.json("GET", path, token=world.admin)
            assert status == 400, (path, reply)
            refused(reply, INVALID_ARGUMENT, "month")

    status, body = mesh.json("POST", "/v1/settlement/closings", {"month": MONTH}, token=world.admin, timeout=120)
    assert status == 200, body
    world.model.close(FEB, world.monthly())
    assert int(body["payouts_created"]) == len(world.model.payouts) == 3, world.model.payouts

    status, reply = mesh.json("GET", FILE, token=world.admin)
    assert status == 400, reply
    refused(reply, FAILED_PRECONDITION, "not approved yet", ":approve")
    seller_token = world.sellers["A"][1]
    for path in (FILE, PAYOUTS):
        status, reply = mesh.json("GET", path, token=seller_token)
        assert status == 403, (path, reply)
        refused(reply, PERMISSION_DENIED, "ADMIN")
        status, _ = mesh.json("GET", path)
        assert status == 401
    assert audited_downloads(world) == []  # a refusal is not a download
    closing = world.closing()
    assert closing.get("transfer_files", []) == [] and closing.get("transfer_file_sha256", "") == ""


def test_the_approved_months_file_is_the_same_bytes_every_time_with_its_sha256_recorded(world):
    status, body = world.mesh.json("POST", f"/v1/settlement/closings/{MONTH}:approve", {}, token=world.checker)
    assert status == 200, body
    world.model.approve(FEB)

    status, headers, first = world.download()
    assert status == 200, first
    assert headers["content-type"] == "text/csv; charset=utf-8"
    assert headers["content-disposition"] == f'attachment; filename="transfers-{MONTH}.csv"'
    status, _, again = world.download()
    assert status == 200 and again == first

    rows = rows_of(first)
    assert list(rows[0]) == [
        "kind",
        "payout_id",
        "seller_id",
        "bank_code",
        "account_number",
        "account_holder",
        "amount_krw",
        "memo",
    ]
    transfers, total = rows[:-1], rows[-1]
    expected = world.expected_rows("AB")  # only APPROVED payouts: C's is HELD
    assert transfers == expected
    assert total["kind"] == "TOTAL" and total["memo"] == f"PaySystem {MONTH}"
    assert int(total["amount_krw"]) == sum(int(r["amount_krw"]) for r in expected)

    closing = world.closing()
    assert closing["transfer_file_sha256"] == hashlib.sha256(first).hexdigest()
    assert int(closing["transfer_rows"]) == 2
    assert closing["transfer_total_krw"] == total["amount_krw"]
    (file,) = closing["transfer_files"]
    assert (file["part"], file["sha256"], file["filename"]) == (
        1,
        closing["transfer_file_sha256"],
        f"transfers-{MONTH}.csv",
    )
    assert int(file["created_by"]) == world.admin_id
    assert int(closing.get("approved_not_in_file", 0)) == 0

    # The account number is unmasked only in the file: the profile shows its last 4 digits.
    seller_id, token = world.sellers["A"]
    profile = world.get(f"/v1/sellers/{seller_id}/payout-profile", token)
    assert profile["account_number"] != "110234567890" and profile["account_number"].endswith("7890")
    assert "110234567890" in first.decode()

    downloads = audited_downloads(world)
    assert len(downloads) == 2
    assert {(int(e["actor_id"]), e["target"]) for e in downloads} == {(world.admin_id, f"month:{MONTH}")}
    assert all(closing["transfer_file_sha256"] in e["after"] for e in downloads)


def test_a_payout_released_after_the_approval_goes_into_part_2_and_part_1_stays_the_same(world):
    _, _, part1 = world.download()
    status, reply = world.mesh.json("GET", FILE + "?part=2", token=world.admin)
    assert status == 400, reply
    refused(reply, FAILED_PRECONDITION, "every approved payout of 2016-02 is in its bank file parts 1..1")
    status, reply = world.mesh.json("GET", FILE + "?part=3", token=world.admin)
    assert status == 404, reply
    refused(reply, NOT_FOUND, "the next one is part 2")
    status, reply = world.mesh.json("GET", FILE + "?part=-1", token=world.admin)
    assert status == 400, reply

    released = world.put_profile("C")  # HELD -> APPROVED at once: the month is approved
    assert [p["status"] for p in released["released"]] == ["APPROVED"]
    assert int(world.closing()["approved_not_in_file"]) == 1

    status, _, still = world.download()
    assert status == 200 and still == part1
    status, headers, part2 = world.download(FILE + "?part=2")
    assert status == 200, part2
    assert headers["content-disposition"] == f'attachment; filename="transfers-{MONTH}-part2.csv"'
    rows = rows_of(part2)
    assert rows[:-1] == world.expected_rows("C")
    assert int(rows[-1]["amount_krw"]) == int(rows[0]["amount_krw"])

    # Marking a payout of part 1 PAID changes neither file.
    payout_id = int(rows_of(part1)[0]["payout_id"])
    status, body = world.mesh.json(
        "POST", f"/v1/payouts/{payout_id}:mark", {"status": "PAID", "reference": "BANK-1"}, token=world.admin
    )
    assert status == 200, body
    world.model.mark((int(body["seller_id"]), FEB), "PAID")
    assert world.download()[2] == part1 and world.download(FILE + "?part=2")[2] == part2

    closing = world.closing()
    assert [(f["part"], f["sha256"]) for f in closing["transfer_files"]] == [
        (1, hashlib.sha256(part1).hexdigest()),
        (2, hashlib.sha256(part2).hexdigest()),
    ]
    assert int(closing.get("approved_not_in_file", 0)) == 0


def test_the_months_payouts_filtered_by_status_and_paged(world):
    everything = world.month_payouts("")
    expected = sorted(
        (seller_id, amount, status) for (seller_id, month), (amount, status) in world.model.payouts.items()
    )
    assert sorted((int(p["seller_id"]), int(p["amount_krw"]), p["status"]) for p in everything) == expected
    ids = [int(p["payout_id"]) for p in everything]
    assert ids == sorted(ids) and len(ids) == 3
    assert world.month_payouts("", page_size=1) == everything
    for status in ("HELD", "PENDING", "APPROVED", "PAID", "FAILED"):
        wanted = [p for p in everything if p["status"] == status]
        assert world.month_payouts(status, page_size=1) == wanted, status
    assert {p["status"] for p in everything} == {"APPROVED", "PAID"}
    for p in everything:
        assert int(p["net_krw"]) == reference.payout_taxes(int(p["gross_krw"]), p["tax_type"])[3]

    for query in ("?page_token=nope", "?page_size=1001", "?status=NOPE"):
        status, reply = world.mesh.json("GET", PAYOUTS + query, token=world.admin)
        assert status == 400, (query, reply)
