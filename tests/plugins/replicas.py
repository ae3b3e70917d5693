"""A private MariaDB primary with binary logging and a second mariadbd replicating from it
(GTID), each on its own data dir under tmp and a free port of 23900-23989; torn down after
the test. The machine's shared MariaDB (3306) is never touched.

`Replication.replica.kill()` / `.start()` crash and restart the replica (it resumes
replication by itself: its relay log position is on disk); `stop_replication()` /
`start_replication()` stop and restart its SQL and IO threads (STOP SLAVE / START SLAVE).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from pathlib import Path

import sqlalchemy as sa

import migrations
from services.common import db
from services.common.settings import Settings
from tests.mesh import reserve_port_block
from tests.plugins.faults import MariaDBProcess

REPLICATION_PORTS = range(23900, 23990)
DB_NAME = "replicas_paysystem"


class ReplicationNode(MariaDBProcess):
    """MariaDBProcess with a server id, and binary logging on the primary."""

    def __init__(self, port: int, workdir: Path, server_id: int, *, primary: bool) -> None:
        super().__init__(port, workdir)
        self.server_id = server_id
        self.primary = primary

    def _options(self) -> list[str]:
        options = [o for o in super()._options() if o != "--skip-log-bin"]
        options += [f"--server-id={self.server_id}", "--innodb-buffer-pool-size=32M"]
        if self.primary:
            return [*options, f"--log-bin={self.workdir / 'binlog'}", "--binlog-format=ROW"]
        return [*options, "--skip-log-bin", f"--relay-log={self.workdir / 'relay'}", "--log-slave-updates=0"]

    def sql(self, statement: str):
        engine = sa.create_engine(self.server_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as conn:
                result = conn.exec_driver_sql(statement)
                return result.mappings().all() if result.returns_rows else None
        finally:
            engine.dispose()


@dataclasses.dataclass
class Replication:
    primary: ReplicationNode
    replica: ReplicationNode

    @property
    def primary_url(self) -> str:
        return f"{self.primary.server_url}/{DB_NAME}"

    @property
    def replica_url(self) -> str:
        return f"{self.replica.server_url}/{DB_NAME}"

    def start_replication(self) -> None:
        self.replica.sql("START SLAVE")

    def stop_replication(self) -> None:
        self.replica.sql("STOP SLAVE")

    def slave_status(self) -> dict:
        rows = self.replica.sql("SHOW SLAVE STATUS")
        return dict(rows[0]) if rows else {}

    def wait_caught_up(self, timeout_sec: float = 30.0) -> None:
        """Until the replica has applied every transaction the primary has logged."""
        (row,) = self.primary.sql("SELECT @@gtid_binlog_pos AS pos")
        (waited,) = self.replica.sql(f"SELECT MASTER_GTID_WAIT('{row['pos']}', {timeout_sec}) AS r")
        if waited["r"] != 0:
            raise AssertionError(f"replica not caught up after {timeout_sec} s: {self.slave_status()}")

    def settings(self, **overrides) -> Settings:
        return Settings(db_url=self.primary_url, db_read_urls=self.replica_url, **overrides)


@contextlib.contextmanager
def replication(workdir: Path):
    """A migrated PaySystem database on the primary, replicated to the replica."""
    port, lock = reserve_port_block(2, REPLICATION_PORTS)
    primary = ReplicationNode(port, workdir / "primary", 1, primary=True)
    replica = ReplicationNode(port + 1, workdir / "replica", 2, primary=False)
    try:
        for node in (primary, replica):
            node.install()
            node.start()
        try:
            (row,) = primary.sql("SELECT @@gtid_binlog_pos AS pos")
            replica.sql(f"SET GLOBAL gtid_slave_pos = '{row['pos']}'")
            replica.sql(
                f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={primary.port}, MASTER_USER='root',"
                " MASTER_PASSWORD='', MASTER_CONNECT_RETRY=1, MASTER_USE_GTID=slave_pos"
            )
            replica.sql("START SLAVE")
            pair = Replication(primary, replica)
            primary.create_database(DB_NAME)
            engine = db.make_engine(Settings(db_url=pair.primary_url))
            try:
                migrations.migrate(engine)
            finally:
                engine.dispose()
            pair.wait_caught_up()
            yield pair
        finally:
            for node in (replica, primary):
                node.stop()
    finally:
        lock.close()


def wait_until(predicate, timeout_sec: float, what: str, poll_sec: float = 0.05):
    deadline = time.monotonic() + timeout_sec
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_sec} s: {what}")
        time.sleep(poll_sec)
