"""The ingest's literal fast path (services/video/sql_literals.py) stores exactly what the
same statements with bound parameters store, for hostile texts, on MariaDB (SQLite always
binds)."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.common import db
from services.common.settings import Settings
from services.video import repository
from tests.databases import fresh_database

RECEIVED = 1_790_000_000_000_000
_runs = itertools.count()

HOSTILE = [
    "'",
    '"',
    "\\",
    "\x00",
    "\x01",
    "\\x01",
    "\x1a",
    "\n",
    "\r",
    "%s",
    "%%",
    "', '",
    "');--",
    "😀",
    "é",
    "\u2028",
    "\x7f",
    "`",
]
texts = (
    st.lists(
        st.one_of(st.sampled_from(HOSTILE), st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=4)),
        min_size=1,
        max_size=12,
    )
    .map("".join)
    .filter(lambda t: len(t) <= 120)
)


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    with fresh_database("mariadb", "paysystem_lit_", tmp_path_factory.mktemp("literal")) as url:
        engine = db.make_engine(Settings(db_url=url))
        yield engine
        engine.dispose()


def _stored(conn, prefix: str, received: int) -> list[tuple]:
    """(event id after the prefix as bytes, every other column) of the rows of one insert."""
    rows = conn.execute(
        sa.text(
            "SELECT HEX(event_id), video_id, viewer_id, started_at_us, local_day, start_position_sec,"
            " end_position_sec FROM plays WHERE received_at_us = :r"
        ),
        {"r": received},
    ).all()
    return sorted((bytes.fromhex(r[0])[len(prefix) :], *r[1:]) for r in rows)


def _resumes(conn, viewer_id: int, prefix: str) -> list[tuple]:
    rows = conn.execute(
        sa.text(
            "SELECT video_id, position_sec, started_at_us, HEX(event_id), updated_at_us FROM resume_positions"
            " WHERE viewer_id = :v"
        ),
        {"v": viewer_id},
    ).all()
    return sorted((r[0], r[1], r[2], bytes.fromhex(r[3])[len(prefix) :], r[4]) for r in rows)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=st.lists(texts, min_size=1, max_size=30, unique=True), returning=st.booleans())
def test_literal_text_stores_exactly_what_bound_parameters_store(engine, ids, returning):
    run = next(_runs)
    stored = {}
    for bound in (False, True):
        prefix = f"{run}{'b' if bound else 'l'}:"
        received = RECEIVED + 2 * run + int(bound)
        rows = [(prefix + t, 1 + i, 2 + i, RECEIVED - i, "2026-09-21", i, 10 * i) for i, t in enumerate(ids)]
        viewer = 2 * run + int(bound) + 1_000_000
        resume = [(viewer, 1 + i, i, RECEIVED - i, prefix + t, RECEIVED) for i, t in enumerate(ids)]
        with engine.begin() as conn:
            if returning:
                inserted = repository.insert_plays_returning(conn, rows, received, bound=bound)
            else:
                inserted = repository.insert_plays(conn, rows, received, bound=bound)
            assert inserted == {r[0] for r in rows}
            repository.upsert_resume_positions(conn, resume, bound=bound)
        with engine.connect() as conn:
            stored[bound] = (_stored(conn, prefix, received), _resumes(conn, viewer, prefix))
            assert repository.stored_plays(conn, [r[0] for r in rows]) == {
                r[0]: (r[1], r[2], r[3], r[5], r[6]) for r in rows
            }
    assert stored[False] == stored[True]
    literal_plays, literal_resumes = stored[False]
    assert [r[0] for r in literal_plays] == sorted(t.encode() for t in ids)  # exactly the texts sent
    assert len(literal_resumes) == len(ids)
