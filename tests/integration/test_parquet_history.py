"""The Parquet history of the plays (services/video/parquet_history.py, `paysystem plays
export`), on MariaDB and SQLite: a month exported and read back equals the table row for row
(by the per-day checksums of the manifest, and directly: every row of every day, and the whole
folder read as a hive-partitioned dataset, local_day from the folder names, as Spark reads it);
a re-export replaces a day and changes nothing else; bad ranges are refused; the CLI command
end to end.

The rows compared against are read here with their own query and sorted here, not by the
module's keyset pages; small pages (7 rows) make the keyset cross ties of (video, viewer,
started_at) and non-ASCII event ids.
"""

from __future__ import annotations

import datetime as dt
import json

import pyarrow.dataset as ds
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from domain.errors import BadInput, BadRange
from entrypoints.cli.main import main
from services.common.settings import get_settings
from services.video import parquet_history as history
from services.video.tables import archived_months, plays
from tests.plugins.jobs import SEOUL, add_plays, add_videos, clear
from tests.plugins.ledger import JAN, VIDEOS, days_of, month_plays

COLUMNS = list(history.COLUMNS)


def load(engine) -> None:
    clear(engine)
    add_videos(engine, VIDEOS)
    add_plays(engine, month_plays(JAN, 9, "h", seed=11))
    tie_us = 1_325_400_000_000_000 + 5_000_000  # 2012-01-01 15:40 KST, the same for all
    ties = [
        {
            "event_id": event_id,
            "video_id": VIDEOS[0],
            "viewer_id": 42,
            "started_at_us": tie_us,
            "local_day": JAN,
            "start_position_sec": 3,
            "end_position_sec": 9,
            "received_at_us": 2**62 + n,
        }
        for n, event_id in enumerate(["tie-b", "tie-a", "tié-ü", "tie-🙂", "Tie-Z", "tie-a0", "tie-", "tie-b "])
    ]
    with engine.begin() as conn:
        conn.execute(sa.insert(plays), ties)


def table_rows(engine, day: dt.date) -> list[tuple]:
    """The day's plays in the history's columns, sorted here by its key."""
    with engine.connect() as conn:
        rows = [
            tuple(r) for r in conn.execute(sa.select(*(plays.c[c] for c in COLUMNS)).where(plays.c.local_day == day))
        ]
    at = [COLUMNS.index(c) for c in history.SORT_KEY]
    return sorted(rows, key=lambda r: tuple(r[i] for i in at))


def every_row(engine) -> set[tuple]:
    with engine.connect() as conn:
        return {tuple(r) for r in conn.execute(sa.select(*(plays.c[c] for c in [*COLUMNS, "local_day"])))}


@pytest.mark.parametrize("module_engine", ["mariadb", "sqlite"], indirect=True)
def test_a_month_exported_reads_back_equal_to_the_table_row_for_row(module_engine, tmp_path):
    engine = module_engine
    load(engine)
    days = days_of(JAN)
    out = tmp_path / "history"

    written = history.export_days(engine, days[0], days[-1], f"file://{out}", batch_rows=7)

    assert [d.day for d in written] == days
    assert sum(d.rows for d in written) == 9 * 31 + 8
    manifest = history.read_manifest(out)
    assert manifest["sort"] == list(history.SORT_KEY) and list(manifest["columns"]) == COLUMNS
    for d in written:
        assert manifest["days"][d.day.isoformat()] == {"rows": d.rows, "sha256": d.sha256}
        assert history.table_digest(engine, d.day, batch_rows=5) == d == history.files_digest(out, d.day)
        assert list(history.read_day(out, d.day, batch_rows=4)) == table_rows(engine, d.day)
    assert history.verify(out) == written
    assert sorted(p.name for p in out.iterdir()) == [history.MANIFEST, *(f"local_day={d}" for d in days)]

    # As Spark reads it: the folder as a hive-partitioned dataset, local_day from the names.
    dataset = ds.dataset(out, format="parquet", partitioning="hive", exclude_invalid_files=True)
    assert dataset.schema.field("video_id").type == "int64" and dataset.schema.field("event_id").type == "string"
    table = dataset.to_table()
    read = {(*(row[c] for c in COLUMNS), dt.date.fromisoformat(str(row["local_day"]))) for row in table.to_pylist()}
    assert table.num_rows == len(read) and read == every_row(engine)


@pytest.mark.parametrize("module_engine", ["mariadb"], indirect=True)
def test_a_re_export_replaces_its_days_and_nothing_else(module_engine, tmp_path):
    engine = module_engine
    load(engine)
    first, last = JAN, JAN.replace(day=5)
    history.export_days(engine, first, last, tmp_path, batch_rows=6)
    manifest = history.read_manifest(tmp_path)
    files = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*.parquet")}

    history.export_days(engine, first, last, tmp_path, batch_rows=6)  # again: the same

    assert history.read_manifest(tmp_path) == manifest
    assert {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*.parquet")} == files
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left

    day2 = JAN.replace(day=2)
    with engine.begin() as conn:  # day 2 changes (a late play, one removed); day 3 empties
        gone = conn.execute(sa.select(sa.func.min(plays.c.play_id)).where(plays.c.local_day == day2)).scalar_one()
        conn.execute(sa.delete(plays).where(plays.c.play_id == gone))
        conn.execute(sa.delete(plays).where(plays.c.local_day == JAN.replace(day=3)))
        conn.execute(
            sa.insert(plays).values(
                event_id="late-2", video_id=VIDEOS[1], viewer_id=7, started_at_us=1_325_480_000_000_000,
                local_day=day2, start_position_sec=0, end_position_sec=60, received_at_us=1,
            )
        )  # fmt: skip
    history.export_days(engine, day2, JAN.replace(day=3), tmp_path)

    after = history.read_manifest(tmp_path)
    assert {k: v for k, v in after["days"].items() if k not in ("2012-01-02", "2012-01-03")} == {
        k: v for k, v in manifest["days"].items() if k not in ("2012-01-02", "2012-01-03")
    }
    assert after["days"]["2012-01-02"]["rows"] == manifest["days"]["2012-01-02"]["rows"]
    assert after["days"]["2012-01-02"]["sha256"] != manifest["days"]["2012-01-02"]["sha256"]
    assert after["days"]["2012-01-03"]["rows"] == 0
    assert list(history.read_day(tmp_path, day2)) == table_rows(engine, day2)
    assert list(history.read_day(tmp_path, JAN.replace(day=3))) == []
    assert [d.day for d in history.verify(tmp_path)] == days_of(JAN)[:5]

    # A file changed behind the manifest's back (day 4's file replaced by day 5's) is found.
    part = history.day_folder(tmp_path, JAN.replace(day=4)) / "part-0.parquet"
    part.write_bytes((history.day_folder(tmp_path, JAN.replace(day=5)) / "part-0.parquet").read_bytes())
    with pytest.raises(history.HistoryMismatch, match="local_day=2012-01-04"):
        history.verify(tmp_path)


@pytest.mark.parametrize("module_engine", ["mariadb"], indirect=True)
def test_bad_ranges_and_places_are_refused(module_engine, tmp_path):
    engine = module_engine
    load(engine)
    with pytest.raises(BadRange, match="before it starts"):
        history.export_days(engine, JAN.replace(day=3), JAN.replace(day=2), tmp_path)
    with pytest.raises(BadRange, match="not over yet"):
        history.export_days(engine, JAN, JAN.replace(day=2), tmp_path, today=JAN.replace(day=2))
    with pytest.raises(BadInput, match="file://"):
        history.export_days(engine, JAN, JAN, "s3://bucket/plays")
    with engine.begin() as conn:
        conn.execute(sa.insert(archived_months).values(month=JAN, status="ARCHIVED", file_name="x", marked_at_us=0))
    try:
        with pytest.raises(BadRange, match="2012-01 archived"):
            history.export_days(engine, dt.date(2011, 12, 30), JAN.replace(day=1), tmp_path)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.delete(archived_months))
    assert not list(tmp_path.iterdir())


@pytest.fixture
def cli_env(module_engine, monkeypatch):
    monkeypatch.setenv("PAYSYSTEM_DB_URL", module_engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("PAYSYSTEM_TIMEZONE", SEOUL.key)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize("module_engine", ["mariadb"], indirect=True)
def test_the_export_command_end_to_end(module_engine, cli_env, tmp_path):
    load(module_engine)
    runner = CliRunner()
    out = tmp_path / "cli"

    result = runner.invoke(
        main, ["plays", "export", "--from", "2012-01-01", "--to", "2012-01-31", "--to-dir", str(out)]
    )

    assert result.exit_code == 0, result.output
    assert "exported 31 days (287 plays)" in result.output
    manifest = json.loads((out / history.MANIFEST).read_text())
    assert sum(d["rows"] for d in manifest["days"].values()) == 287
    assert [d.rows for d in history.verify(out)] == [len(table_rows(module_engine, d)) for d in days_of(JAN)]

    bad = runner.invoke(main, ["plays", "export", "--from", "2012-01-05", "--to", "2012-01-04", "--to-dir", str(out)])
    assert bad.exit_code != 0 and "ends (2012-01-04) before it starts (2012-01-05)" in bad.output
    bad = runner.invoke(main, ["plays", "export", "--from", "2012-02-30", "--to", "2012-03-01", "--to-dir", str(out)])
    assert bad.exit_code != 0 and "--from" in bad.output
    future = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    bad = runner.invoke(main, ["plays", "export", "--from", "2012-01-01", "--to", future, "--to-dir", str(out)])
    assert bad.exit_code != 0 and "not over yet" in bad.output


@pytest.mark.parametrize("module_engine", ["mariadb"], indirect=True)
def test_a_later_page_starts_its_index_scan_at_its_first_row(module_engine):
    """Each page reads only its own rows: MariaDB scans ix_plays_day_scan as a range that
    starts at the page's key (a key longer than local_day's 3 bytes), not the day from its
    start (a `ref` on local_day: quadratic in pages, 73-86 s for a page of a 3M-play day)."""
    engine = module_engine
    load(engine)
    with engine.connect() as conn:
        first = list(conn.execute(history.page_query(JAN, None, 5)))
        later = history.page_query(JAN, tuple(first[-1][i] for i in history.KEY_AT), 5)
        sql = str(later.compile(engine, compile_kwargs={"literal_binds": True}))
        (plan,) = conn.exec_driver_sql("EXPLAIN " + sql).mappings().all()
        rows = list(conn.execute(later))
    assert (plan["type"], plan["key"]) == ("range", "ix_plays_day_scan") and int(plan["key_len"]) > 3, plan
    assert rows == [r for r in table_rows(engine, JAN) if r not in first][:5]  # where the last stopped
