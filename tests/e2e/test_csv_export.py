"""Statements and the ledger as CSV files through Envoy (google.api.HttpBody), and the CLI's
`paysystem export` writing the same bytes (docs/ledger.md, "CSV files").

Months close in order and for every seller at once, so this module runs a mesh of its own (a
close in the session's shared mesh would decide which months every other test may close).
The figures are the real ones: plays in the database, the batch through Envoy, two closes
through Envoy (February 2016, then March 2016 with a late February play adjusted). Every
amount of a CSV file is compared with the JSON API's answer for the same thing.
"""

from __future__ import annotations

import csv
import datetime as dt
import http.client
import io
from decimal import Decimal

import pytest
import sqlalchemy as sa

from services.common import db
from tests.databases import fresh_database
from tests.mesh import Mesh
from tests.plugins.jobs import add_plays, play

BOM = b"\xef\xbb\xbf"
# Through the API: a formula, commas, quotes and Korean. The API refuses control characters
# in titles; the second title gets its newline in the database (the CSV must not rely on it).
TITLE_API = '=1+2, "quoted" 한국어 제목'
TITLE_DB = 'line one\nline two, "둘", 뮤직비디오'


@pytest.fixture(scope="module", params=["sqlite", "mariadb"])
def ledger_mesh(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"csv-{request.param}")
    if request.param == "sqlite":
        with Mesh.on_free_ports(tmp / "mesh") as mesh:
            yield mesh
        return
    with fresh_database("mariadb", "csv_mesh_", tmp) as url:
        with Mesh.on_free_ports(tmp / "mesh", db_url=url, redis_url="redis://127.0.0.1:6379/1") as mesh:
            yield mesh


def get_raw(mesh: Mesh, path: str, token: str | None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", mesh.settings.http_port, timeout=30)
    try:
        conn.request("GET", path, headers={"authorization": f"Bearer {token}"} if token else {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def rows_of(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(BOM)
    reader = csv.DictReader(io.StringIO(data[len(BOM) :].decode("utf-8"), newline=""))
    return list(reader)


def untitled(cell: str) -> str:
    # The documented escape: one apostrophe before a title a spreadsheet would run as a formula.
    return cell[1:] if cell.startswith("'") and cell[1:2] in ("=", "+", "-", "@", "\t", "\r", "'") else cell


def run_batch(mesh: Mesh, admin: str) -> None:
    status, events = mesh.run_job({"job": "daily"}, admin)
    assert status == 200 and events[-1]["type"] == "JOB_FINISHED", events


def close(mesh: Mesh, admin: str, month: str) -> dict:
    status, body = mesh.json("POST", "/v1/settlement/closings", {"month": month}, token=admin, timeout=120)
    assert status == 200, body
    return body


@pytest.fixture(scope="module")
def closed(ledger_mesh):
    mesh = ledger_mesh
    seller_id, token = mesh.sign_up_and_login("SELLER")
    _, admin = mesh.create_admin()
    videos = []
    for title in (TITLE_API, "second"):
        status, body = mesh.json("POST", "/v1/videos", {"title": title, "duration_sec": 900}, token=token)
        assert status == 200, body
        videos.append(int(body["video_id"]))
    v1, v2 = videos
    engine = db.make_engine(mesh.settings)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE videos SET title = :t WHERE video_id = :v"), {"t": TITLE_DB, "v": v2})
        feb, mar = dt.date(2016, 2, 10), dt.date(2016, 3, 5)
        add_plays(
            engine,
            [play(f"csv-f{i}", v1, 9_000 + i, feb, 3600 + 60 * i) for i in range(3)]
            + [play(f"csv-g{i}", v2, 9_100 + i, feb, 7200 + 60 * i, end=600) for i in range(2)]
            + [play(f"csv-m{i}", v1, 9_200 + i, mar, 3600 + 60 * i) for i in range(2)],
        )
        run_batch(mesh, admin)
        close(mesh, admin, "2016-02")
        # A late February play: February's statement stays as closed; March's close adjusts it.
        add_plays(engine, [play("csv-late", v2, 9_300, dt.date(2016, 2, 20), 100, end=600)])
        run_batch(mesh, admin)
        close(mesh, admin, "2016-03")
    finally:
        engine.dispose()
    return mesh, seller_id, token, admin, videos


def statement_path(seller_id: int, csv_file: bool, date: str = "2016-03-15", period: str = "MONTHLY") -> str:
    suffix = ":csv" if csv_file else ""
    return f"/v1/sellers/{seller_id}/settlements{suffix}?period={period}&date={date}"


@pytest.mark.parametrize("date", ["2016-02-15", "2016-03-15"])
def test_a_closed_months_statement_csv_has_every_amount_of_the_json_statement(closed, date):
    mesh, seller_id, token, _, (v1, v2) = closed
    status, body = mesh.json("GET", statement_path(seller_id, False, date), token=token)
    assert status == 200, body
    status, headers, data = get_raw(mesh, statement_path(seller_id, True, date), token)
    assert status == 200, data
    assert headers["content-type"] == "text/csv; charset=utf-8"
    start = "2016-02-01" if date.startswith("2016-02") else "2016-03-01"
    assert headers["content-disposition"] == f'attachment; filename="statement-{seller_id}-monthly-{start}.csv"'
    assert data.startswith(BOM)
    assert data.count(b"\xef\xbb\xbf") == 1
    header = data[len(BOM) :].split(b"\r\n", 1)[0].decode()
    assert header.startswith("kind,video_id,title,")

    rows = rows_of(data)
    lines = [r for r in rows if r["kind"] == "LINE"]
    adjustments = [r for r in rows if r["kind"] == "ADJUSTMENT"]
    assert [r["kind"] for r in rows] == ["LINE"] * len(lines) + ["ADJUSTMENT"] * len(adjustments) + ["TOTAL"]
    assert [
        (int(r["video_id"]), untitled(r["title"]), r["views"], r["video_revenue"], r["ad_revenue"], r["amount"])
        for r in lines
    ] == [
        (int(j["video_id"]), j["title"], j["views"], j["video_revenue"], j["ad_revenue"], j["amount"])
        for j in body["lines"]
    ]
    assert [(int(r["video_id"]), untitled(r["title"]), r["original_month"], r["amount"]) for r in adjustments] == [
        (int(j["video_id"]), j["title"], j["original_month"], j["amount"]) for j in body.get("adjustments", [])
    ]
    total = rows[-1]
    assert (total["video_revenue"], total["ad_revenue"], total["amount"]) == (
        body["video_revenue"],
        body["ad_revenue"],
        body["total"],
    )
    assert total["payable_krw"] == body["payable_krw"] and total["currency"] == "KRW"
    assert (total["status"], total["closed_at"]) == ("CLOSED", body["closed_at"])
    # The total is the exact sum of the line and adjustment amounts above it.
    assert Decimal(total["amount"]) == sum(Decimal(r["amount"]) for r in lines + adjustments)
    assert Decimal(total["adjustments"]) == sum((Decimal(r["amount"]) for r in adjustments), Decimal(0))
    titles = {int(r["video_id"]): r["title"] for r in lines}
    assert titles[v1] == "'" + TITLE_API  # the formula stays text in a spreadsheet
    if date.startswith("2016-02"):
        assert titles[v2] == TITLE_DB  # commas, quotes, a newline and Korean, back exactly
        assert adjustments == []
    else:
        # March's close posted the late February play as an adjustment of 2016-02.
        assert [(int(r["video_id"]), r["original_month"], r["title"]) for r in adjustments] == [
            (v2, "2016-02", TITLE_DB)
        ]
        assert Decimal(adjustments[0]["amount"]) > 0


def test_the_ledger_csv_lists_every_entry_of_the_json_ledger_then_their_sum(closed):
    mesh, seller_id, token, _, (v1, v2) = closed
    entries, page_token = [], ""
    while True:
        query = f"from=2016-02&to=2016-03&page_size=2&page_token={page_token}"
        status, body = mesh.json("GET", f"/v1/sellers/{seller_id}/ledger?{query}", token=token)
        assert status == 200, body
        entries += body.get("entries", [])
        page_token = body.get("next_page_token", "")
        if not page_token:
            break
    status, headers, data = get_raw(mesh, f"/v1/sellers/{seller_id}/ledger:csv?from=2016-02&to=2016-03", token)
    assert status == 200, data
    assert headers["content-type"] == "text/csv; charset=utf-8"
    assert headers["content-disposition"] == f'attachment; filename="ledger-{seller_id}-2016-02-2016-03.csv"'
    rows = rows_of(data)
    assert rows[-1]["kind"] == "TOTAL"
    assert [
        (r["kind"], r["entry_id"], r["posted_month"], r["original_month"], untitled(r["title"]), r["amount"])
        for r in rows[:-1]
    ] == [
        (e["kind"], e["entry_id"], e["posted_month"], e.get("original_month", ""), e.get("title", ""), e["amount"])
        for e in entries
    ]
    assert [r["posted_at"] for r in rows[:-1]] == [e["posted_at"] for e in entries]
    # EARNING per February line, EARNING for March's line, the ADJUSTMENT for February.
    assert sorted(r["kind"] for r in rows[:-1]) == ["ADJUSTMENT", "EARNING", "EARNING", "EARNING"]
    assert Decimal(rows[-1]["amount"]) == sum(Decimal(e["amount"]) for e in entries)
    _, balance = mesh.json("GET", f"/v1/sellers/{seller_id}/balance", token=token)
    assert Decimal(rows[-1]["amount"]) == Decimal(balance["balance"])  # nothing outside the range, no payout


def test_a_seller_gets_only_their_own_csvs_and_no_token_is_a_401(closed):
    mesh, seller_id, token, admin, _ = closed
    _, other = mesh.sign_up_and_login("SELLER")
    paths = [statement_path(seller_id, True), f"/v1/sellers/{seller_id}/ledger:csv?from=2016-02&to=2016-03"]
    for path in paths:
        assert get_raw(mesh, path, other)[0] == 403
        assert get_raw(mesh, path, None)[0] == 401
        status, _, data = get_raw(mesh, path, admin)
        assert status == 200 and data.startswith(BOM)
    _, viewer = mesh.sign_up_and_login("VIEWER")
    assert get_raw(mesh, paths[0], viewer)[0] == 403


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("settlements:csv?period=MONTHLY&date=2016-02-30", "date"),
        ("settlements:csv?date=2016-02-01", "period"),
        ("ledger:csv?from=2016-03&to=2016-02", "to"),
        ("ledger:csv?from=2016-3&to=2016-04", "from"),
    ],
)
def test_bad_arguments_are_a_json_400_naming_the_field(closed, path, field):
    mesh, seller_id, token, _, _ = closed
    status, body = mesh.json("GET", f"/v1/sellers/{seller_id}/{path}", token=token)
    assert status == 400, body
    assert body["message"].startswith(f"{field}:")


def test_an_open_weekly_statement_csv_says_open(closed):
    mesh, seller_id, token, _, _ = closed
    status, _, data = get_raw(mesh, statement_path(seller_id, True, "2016-04-06", "WEEKLY"), token)
    assert status == 200
    rows = rows_of(data)
    assert [r["kind"] for r in rows] == ["TOTAL"]
    assert (rows[0]["status"], rows[0]["amount"], rows[0]["closed_at"]) == ("OPEN", "0.0", "")


def test_the_cli_writes_the_same_bytes_as_the_api(closed, tmp_path):
    mesh, seller_id, token, _, _ = closed
    statement_file, ledger_file = tmp_path / "s.csv", tmp_path / "l.csv"
    done = mesh.cli(
        "export", "statement", "--seller", str(seller_id), "--date", "2016-03-15", "--out", str(statement_file)
    )
    assert done.returncode == 0, done.stderr
    done = mesh.cli(
        "export",
        "ledger",
        "--seller",
        str(seller_id),
        "--from",
        "2016-02",
        "--to",
        "2016-03",
        "--out",
        str(ledger_file),
    )
    assert done.returncode == 0, done.stderr
    assert statement_file.read_bytes() == get_raw(mesh, statement_path(seller_id, True), token)[2]
    ledger_path = f"/v1/sellers/{seller_id}/ledger:csv?from=2016-02&to=2016-03"
    assert ledger_file.read_bytes() == get_raw(mesh, ledger_path, token)[2]
    refused = mesh.cli("export", "ledger", "--seller", str(seller_id), "--from", "2016-13", "--to", "2016-02")
    assert refused.returncode == 2 and "from:" in refused.stderr
