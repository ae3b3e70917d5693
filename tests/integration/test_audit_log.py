"""The audit log on the real databases (services/audit): an entry commits or rolls back with
the action's transaction; concurrent appends keep one chain; and `paysystem audit verify`
finds an entry edited, deleted or inserted directly in MariaDB, naming the first bad one.
Expected hashes come from domain/audit_chain.py's rules, checked by hand in
tests/unit/test_audit_chain.py."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from domain.audit_chain import GENESIS, AuditEvent, chained
from entrypoints.cli.main import main
from services.audit import published, service
from services.audit.tables import audit_chain_head, audit_log
from services.common.settings import get_settings
from tests.databases import fresh_engine

NOW = 1_772_000_000_000_000


@pytest.fixture(scope="module", params=["mariadb", "sqlite"])
def engine(request, tmp_path_factory):
    with fresh_engine(request.param, "audit_", tmp_path_factory.mktemp("audit")) as made:
        yield made


@pytest.fixture
def empty(engine):
    """The module's database with an empty log (as migration 0018 leaves it)."""
    with engine.begin() as conn:
        conn.execute(sa.delete(audit_log))
        conn.execute(sa.update(audit_chain_head).values(last_seq=0, last_hash=GENESIS))
    return engine


def event(i: int) -> AuditEvent:
    return AuditEvent(i, "payout.mark", f"payout:{i}", '{"status":"PENDING"}', '{"status":"PAID"}')


def append(engine: sa.Engine, i: int) -> None:
    with engine.begin() as conn:
        published.append(conn, event(i), NOW + i)


def verify(engine: sa.Engine):
    return service.verify_chain(service.sql_unit_of_work(engine))


def test_an_entry_commits_or_rolls_back_with_the_action(empty):
    append(empty, 1)
    with pytest.raises(RuntimeError), empty.begin() as conn:
        published.append(conn, event(2), NOW)
        raise RuntimeError("the action failed after its entry")
    append(empty, 3)
    with empty.connect() as conn:
        rows = conn.execute(sa.select(audit_log.c.seq, audit_log.c.actor_id).order_by(audit_log.c.seq)).all()
    # No gap where the rolled-back entry was: its seq was taken back with it.
    assert [tuple(r) for r in rows] == [(1, 1), (2, 3)]
    assert verify(empty).ok


def test_concurrent_appends_keep_one_chain(empty):
    threads, each = 4, 10
    errors: list[BaseException] = []

    def appender(worker: int) -> None:
        try:
            for i in range(each):
                with empty.begin() as conn:
                    published.append(conn, event(worker * 100 + i), NOW)
                    time.sleep(0.002)  # hold the head a while: the others must wait, not fork
        except BaseException as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=appender, args=(w,)) for w in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    verdict = verify(empty)
    assert verdict.ok and verdict.entries == threads * each
    with empty.connect() as conn:
        prevs = conn.execute(sa.select(audit_log.c.prev_hash)).scalars().all()
    assert len(set(prevs)) == threads * each  # no two entries follow the same one


@pytest.fixture
def cli(engine, monkeypatch):
    monkeypatch.setenv("PAYSYSTEM_DB_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda: runner.invoke(main, ["audit", "verify"])
    get_settings.cache_clear()


@pytest.mark.parametrize("engine", ["mariadb"], indirect=True)
def test_verify_names_an_edited_a_deleted_and_an_inserted_entry_in_mariadb(empty, cli):
    for i in range(1, 6):
        append(empty, i)
    whole = cli()
    assert whole.exit_code == 0 and "OK: 5 entries" in whole.output, whole.output

    def tampered(sql: str, **params) -> str:
        with empty.begin() as conn:
            conn.execute(sa.text(sql), params)
        result = cli()
        assert result.exit_code == 1, result.output
        return result.output

    with empty.connect() as conn:
        saved = dict(conn.execute(sa.select(audit_log).where(audit_log.c.seq == 2)).one()._mapping)

    out = tampered("UPDATE audit_log SET target = 'payout:999' WHERE seq = 3")
    assert "entry 3 changed" in out
    with empty.begin() as conn:  # put it back: the chain is whole again
        conn.execute(sa.text("UPDATE audit_log SET target = 'payout:3' WHERE seq = 3"))
    assert cli().exit_code == 0
    out = tampered("DELETE FROM audit_log WHERE seq = 2")
    assert "entry 2 missing" in out
    with empty.begin() as conn:
        conn.execute(sa.insert(audit_log).values(**saved))
    # A forged 6th entry with a hash of its own, chained to the real 5th: the head says 5.
    with empty.connect() as conn:
        last = conn.execute(sa.select(audit_log.c.hash).where(audit_log.c.seq == 5)).scalar_one()
    forged = chained(6, event(6), request_id="forged", at_us=NOW, prev_hash=last)
    values = {f: getattr(forged, f) for f in ("seq", "actor_id", "action", "target", "request_id", "at_us")}
    values |= {"before": forged.before, "after": forged.after, "prev_hash": forged.prev_hash, "hash": forged.hash}
    with empty.begin() as conn:
        conn.execute(sa.insert(audit_log).values(**values))
    out = cli().output
    assert "entry 6 inserted" in out, out
