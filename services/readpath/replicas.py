"""Read replicas: the primary's heartbeat, each replica's engine, and waiting for a replica to
apply a job's figures.

**Heartbeat.** One row, `replica_heartbeat` (id 1): every batch instance bumps it every
second (`HeartbeatWriter`), `seq = seq + 1, beat_us = now`. Read on a replica, `now - beat_us`
is how far behind the replica is: unlike the replication status (`Seconds_Behind_Master`
reads 0 or NULL while the SQL thread is stopped), it keeps growing whatever stopped.

**A job's figures on every replica.** After a job's last commit the batch bumps the
heartbeat once more and waits until every replica shows that `seq` or a later one
(`wait_for_replicas`): a replica applies the primary's commits in their order, so it has then
applied the job's figures. A replica that has not after `PAYSYSTEM_DB_REPLICA_WAIT_SEC`
is out of use in every read service by then, without anyone telling them: its last heartbeat
was written before that bump, so its lag has passed `PAYSYSTEM_DB_REPLICA_MAX_LAG_MS` (the
wait is at least the max lag plus two health checks, `min_wait_sec`), and a read service's
estimate of a replica's lag grows with the time since its last check (readrouter.py).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Sequence

import sqlalchemy as sa

from services.common import db
from services.readpath.tables import replica_heartbeat

log = logging.getLogger(__name__)

HEARTBEAT_ID = 1
HEARTBEAT_INTERVAL_SEC = 1.0
# How often a read service checks each replica's heartbeat (services/readpath/readrouter.py).
HEALTH_CHECK_SEC = 0.5


def _now_us() -> int:
    return time.time_ns() // 1000


@dataclasses.dataclass(frozen=True)
class Heartbeat:
    seq: int
    beat_us: int


def beat(conn: sa.Connection, now_us: int | None = None) -> int:
    """Bumps the heartbeat in the caller's transaction and returns its new seq."""
    t = replica_heartbeat
    now_us = _now_us() if now_us is None else now_us
    changed = conn.execute(sa.update(t).where(t.c.id == HEARTBEAT_ID).values(seq=t.c.seq + 1, beat_us=now_us))
    if not changed.rowcount:
        conn.execute(sa.insert(t).values(id=HEARTBEAT_ID, seq=1, beat_us=now_us))
    return int(conn.execute(sa.select(t.c.seq).where(t.c.id == HEARTBEAT_ID)).scalar_one())


def bump(engine: sa.Engine) -> int:
    """One heartbeat in its own transaction (a second writer's first insert races: retried)."""
    try:
        with engine.begin() as conn:
            return beat(conn)
    except sa.exc.IntegrityError:
        with engine.begin() as conn:
            return beat(conn)


def read_heartbeat(conn: sa.Connection) -> Heartbeat | None:
    t = replica_heartbeat
    row = conn.execute(sa.select(t.c.seq, t.c.beat_us).where(t.c.id == HEARTBEAT_ID)).first()
    return None if row is None else Heartbeat(int(row.seq), int(row.beat_us))


def lag_ms(heartbeat: Heartbeat | None, now_us: int | None = None) -> float:
    """How far behind the primary a replica that shows `heartbeat` is (infinite: no row yet)."""
    if heartbeat is None:
        return float("inf")
    return max(0.0, ((_now_us() if now_us is None else now_us) - heartbeat.beat_us) / 1000)


def replica_name(url: str) -> str:
    """host:port/database, the label of a replica in metrics, logs and `paysystem status`."""
    parsed = sa.make_url(url)
    return f"{parsed.host or 'localhost'}:{parsed.port or 3306}/{parsed.database or ''}"


def _repeatable_read(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    cursor.close()


def replica_engine(settings, url: str, **overrides) -> sa.Engine:
    """An engine on one replica: autocommit reads (as the primary's read engine), short
    connect and read timeouts (a replica that stops answering is left within seconds for
    another one or the primary), REPEATABLE READ sessions so that a read's snapshot
    (`START TRANSACTION WITH CONSISTENT SNAPSHOT`) holds across its queries."""
    options = {
        "isolation_level": "AUTOCOMMIT",
        "skip_autocommit_rollback": True,
        "pool_pre_ping": False,
        "pool_reset_on_return": None,
        "connect_args": {
            "connect_timeout": 2,
            "read_timeout": 5,
            "init_command": f"SET SESSION sql_mode = '{db.SQL_MODE}'",
        },
    }
    options.update(overrides)
    engine = db.make_engine(settings.model_copy(update={"db_url": url}), **options)
    sa.event.listen(engine, "connect", _repeatable_read)
    return engine


def min_wait_sec(max_lag_ms: int) -> float:
    """The shortest replica wait after which a replica that has not caught up is out of use
    in every read service: its lag then exceeds the max lag, seen by a check or estimated."""
    return max_lag_ms / 1000 + 2 * HEALTH_CHECK_SEC + HEARTBEAT_INTERVAL_SEC


@dataclasses.dataclass(frozen=True)
class CatchUp:
    """One replica's answer to a job's wait."""

    name: str
    applied: bool
    waited_sec: float
    error: str = ""

    def describe(self) -> str:
        if self.applied:
            return f"replica {self.name} applied it after {self.waited_sec:.2f} s"
        reason = f" ({self.error})" if self.error else ""
        return f"replica {self.name} had not applied it after {self.waited_sec:.1f} s{reason}: out of use until it catches up"


def wait_for_replicas(
    primary: sa.Engine,
    replicas: Sequence[tuple[str, sa.Engine]],
    timeout_sec: float,
    *,
    poll_sec: float = 0.02,
) -> list[CatchUp]:
    """Bumps the heartbeat on the primary (after the caller's commits), then waits until each
    replica shows it, all within one `timeout_sec`."""
    if not replicas:
        return []
    mark = bump(primary)
    started = time.monotonic()
    deadline = started + timeout_sec
    pending = dict(replicas)
    errors: dict[str, str] = {}
    answers: dict[str, CatchUp] = {}
    while pending:
        for name, engine in list(pending.items()):
            try:
                with engine.connect() as conn:
                    seen = read_heartbeat(conn)
            except sa.exc.DBAPIError as exc:
                errors[name] = f"{type(exc.orig).__name__}: {exc.orig}"
                continue
            if seen is not None and seen.seq >= mark:
                answers[name] = CatchUp(name, True, time.monotonic() - started)
                del pending[name]
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(poll_sec)
    for name in pending:
        answers[name] = CatchUp(name, False, time.monotonic() - started, errors.get(name, ""))
    return [answers[name] for name, _ in replicas]


@dataclasses.dataclass(frozen=True)
class ReplicaHealth:
    """One replica as a single check sees it (`paysystem status`)."""

    name: str
    lag_ms: float | None  # None: it did not answer
    in_use: bool
    detail: str


def probe(settings) -> list[ReplicaHealth]:
    """Checks each replica of the settings once, with the read services' rule: in use while
    the lag measured from the primary's heartbeat is at most PAYSYSTEM_DB_REPLICA_MAX_LAG_MS."""
    found = []
    for url in settings.read_urls:
        name = replica_name(url)
        engine = replica_engine(settings, url)
        try:
            with engine.connect() as conn:
                lag = lag_ms(read_heartbeat(conn))
        except sa.exc.DBAPIError as exc:
            found.append(ReplicaHealth(name, None, False, f"not answering: {type(exc.orig).__name__}: {exc.orig}"))
            continue
        finally:
            engine.dispose()
        in_use = lag <= settings.db_replica_max_lag_ms
        limit = f"max {settings.db_replica_max_lag_ms} ms"
        found.append(ReplicaHealth(name, lag, in_use, f"lag within {limit}" if in_use else f"lagging ({limit})"))
    return found


class HeartbeatWriter:
    """Bumps the heartbeat on the primary every `interval_sec` in a daemon thread (the batch
    instances run one each when replicas are configured)."""

    def __init__(self, engine: sa.Engine, interval_sec: float = HEARTBEAT_INTERVAL_SEC) -> None:
        self.engine = engine
        self.interval_sec = interval_sec
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="replica-heartbeat", daemon=True)

    def start(self) -> HeartbeatWriter:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closed.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        failing = False
        while True:
            try:
                bump(self.engine)
                if failing:
                    log.info("replica heartbeat recovered")
                failing = False
            except Exception as exc:  # noqa: BLE001 - replicas read as lagging meanwhile, which is true
                if not failing:
                    log.warning("replica heartbeat failing (replicas will read as lagging): %s", exc)
                failing = True
            if self._closed.wait(self.interval_sec):
                return
