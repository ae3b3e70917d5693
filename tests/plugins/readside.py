"""Fixtures for the statistics and settlement read side: figures written as the batch writes
them, a private redis-server that tests may stop, and the two services served in-process.

`publish_day` reproduces the batch's publication of a computed day: upsert the day's
daily rows and rebuild the weekly and monthly rows of the periods containing it from their
daily rows with tests/reference.py's `compute_periods` (the test oracle, not a third copy of
the sums; committed first, as the batch's partitions are), then the batch's own
`finish_day` (batch/steps/daily.py) in a second transaction: the upsert of the day's
`computed_days` row with a new `computed_at_us`, which is what the cache's data version
follows.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import socket
import subprocess
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import grpc
import sqlalchemy as sa

from batch.data_state import publication_delay_sec
from batch.published import read_data_state
from batch.steps import finish_day
from batch.tables import RULE_EXCLUSION_COLUMNS, daily_video_stats, period_video_stats
from domain.periods import Period, period_bounds
from paysystem.v1 import settlement_pb2_grpc, statistics_pb2_grpc
from services.common import auth, db
from services.common.breakers import db_breaker, redis_breaker
from services.common.server import Server, ServiceContext
from services.common.settings import Settings
from services.readpath.cache import Cache, make_redis
from services.readpath.readside import ReadSide, local_tier
from services.settlement.servicer import SettlementServicer
from services.statistics.servicer import StatisticsServicer
from services.video.tables import videos
from tests import reference
from tests.redis_cluster import redis_server_args, wait_for_redis

REDIS_SHARED_DB3 = "redis://127.0.0.1:6379/3"
DAILY_FIELDS = dataclasses.fields(reference.DailyRow)


@dataclasses.dataclass(frozen=True)
class Daily:
    video_id: int
    views: int = 0
    watch_time_sec: int = 0
    ad_views: int = 0
    video_revenue: str = "0"
    ad_revenue: str = "0"
    plays: int = 0
    excluded_self_view: int = 0
    excluded_overlap: int = 0
    excluded_repeat: int = 0
    excluded_cap: int = 0
    excluded_stream_limit: int = 0

    def exclusion_counts(self) -> dict[str, int]:
        return {c: getattr(self, c) for c in RULE_EXCLUSION_COLUMNS}


def add_videos(conn: sa.Connection, seller_id: int, video_ids, title: str = "video") -> None:
    conn.execute(
        sa.insert(videos),
        [
            {"video_id": v, "seller_id": seller_id, "title": f"{title} {v}", "duration_sec": 600, "created_at_us": 0}
            for v in video_ids
        ],
    )


def _seller_of(conn: sa.Connection, video_id: int) -> int:
    return conn.execute(sa.select(videos.c.seller_id).where(videos.c.video_id == video_id)).scalar_one()


def publish_day(engine: sa.Engine, day: dt.date, rows: list[Daily]) -> None:
    """What the batch does when it (re)computes a day, in one transaction. Portable (MariaDB
    and SQLite): upserts are delete + insert; the period rows are reference.compute_periods
    of the periods' daily rows."""
    with engine.begin() as conn:
        for r in rows:
            conn.execute(
                sa.delete(daily_video_stats).where(
                    daily_video_stats.c.video_id == r.video_id, daily_video_stats.c.day == day
                )
            )
            conn.execute(
                sa.insert(daily_video_stats).values(
                    video_id=r.video_id,
                    day=day,
                    seller_id=_seller_of(conn, r.video_id),
                    views=r.views,
                    watch_time_sec=r.watch_time_sec,
                    ad_views=r.ad_views,
                    cum_views=r.views,
                    cum_ad_views=r.ad_views,
                    video_revenue=Decimal(r.video_revenue),
                    ad_revenue=Decimal(r.ad_revenue),
                    **r.exclusion_counts(),
                )
            )
        for period in (Period.WEEKLY, Period.MONTHLY):
            start, end = period_bounds(period, day)
            d = daily_video_stats
            daily = {
                (row.video_id, row.day): reference.DailyRow(**{f.name: getattr(row, f.name) for f in DAILY_FIELDS})
                for row in conn.execute(sa.select(d).where(d.c.day >= start, d.c.day <= end))
            }
            p = period_video_stats
            conn.execute(sa.delete(p).where(p.c.period == period.value, p.c.period_start == start))
            sums = reference.compute_periods(daily, period.value)
            if sums:
                conn.execute(sa.insert(p), [dataclasses.asdict(row) for row in sums.values()])
    with engine.begin() as conn:
        finish_day(conn, day, play_id_watermark=0)
    _await_publication()


def mark_computed(engine: sa.Engine, *days: dt.date) -> None:
    """The batch's `finish_day` alone (a re-run that changed nothing but the stamp)."""
    with engine.begin() as conn:
        for day in days:
            finish_day(conn, day, play_id_watermark=0)
    _await_publication()


def _await_publication() -> None:
    """As the batch does before it reports a job finished: wait until no read service
    (with the default settings, as the meshes run) trusts an older data version."""
    time.sleep(publication_delay_sec(Settings().data_version_max_age_ms))


# --- a private redis-server ------------------------------------------------------------


class RedisProcess:
    """A redis-server of our own (never the machine's shared one), to stop and restart."""

    def __init__(self, port: int, workdir: Path) -> None:
        self.port = port
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.proc is not None

    def send_signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            redis_server_args(self.port, self.workdir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_redis(self.port)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None
        while _port_open(self.port):
            time.sleep(0.05)


def _port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
        return True
    return False


# --- the services in-process -----------------------------------------------------------


@dataclasses.dataclass
class ReadServices:
    settings: Settings
    engine: sa.Engine
    read: ReadSide
    stats: statistics_pb2_grpc.StatisticsServiceStub
    settlement: settlement_pb2_grpc.SettlementServiceStub
    private_key: bytes

    def token(self, account_id: int, role: str = "SELLER") -> list[tuple[str, str]]:
        principal = auth.Principal(account_id, f"user{account_id}", role)
        token = auth.issue_token(self.private_key, principal, issuer=self.settings.jwt_issuer, ttl_sec=300)
        return [("authorization", f"Bearer {token}")]


def make_read_side(
    engine: sa.Engine, redis_url: str, prefix: str, *, reset_timeout: float = 5.0, settings: Settings | None = None
) -> ReadSide:
    """A read side on `engine`. By default the data version is read on every request and there
    is no local cache tier, so a test sees each write at once; with `settings`, the watch and
    the local tier are those settings' (as the services run them)."""
    return ReadSide(
        engine=engine,
        db=db_breaker(f"mysql-{prefix}", reset_timeout=reset_timeout),
        cache=Cache(
            make_redis(redis_url),
            prefix=prefix,
            local=local_tier(settings) if settings else None,
            breaker=redis_breaker(f"redis-{prefix}", reset_timeout=reset_timeout),
        ),
        zone=Settings().zone,
        read_state=read_data_state,
        version_poll_ms=settings.data_version_poll_ms if settings else 0,
        version_max_age_ms=settings.data_version_max_age_ms if settings else 0,
    )


@contextlib.contextmanager
def serve_read_services(
    db_url: str, data_dir: Path, port: int, read: ReadSide, *, require_active_account=None
) -> Iterator[ReadServices]:
    """Statistics and settlement servicers on one in-process gRPC server (with the real
    interceptors), for tests written before the mesh harness existed. `require_active_account`
    as in ServiceContext (None: tokens of any account id are honoured)."""
    settings = Settings(data_dir=data_dir, db_url=db_url)
    auth.ensure_keys(settings.keys_dir)
    ctx = ServiceContext(
        settings=settings, engine=read.engine, instance="readside-test", require_active_account=require_active_account
    )
    from paysystem.v1 import settlement_pb2, statistics_pb2

    registrations = [
        (
            statistics_pb2_grpc.add_StatisticsServiceServicer_to_server,
            StatisticsServicer(read),
            statistics_pb2.DESCRIPTOR.services_by_name["StatisticsService"].full_name,
        ),
        (
            settlement_pb2_grpc.add_SettlementServiceServicer_to_server,
            SettlementServicer(read, read.engine),
            settlement_pb2.DESCRIPTOR.services_by_name["SettlementService"].full_name,
        ),
    ]
    server = Server("readside", registrations, ctx, port)
    server.grpc_server.start()
    channel = grpc.insecure_channel(server.address)
    try:
        yield ReadServices(
            settings=settings,
            engine=read.engine,
            read=read,
            stats=statistics_pb2_grpc.StatisticsServiceStub(channel),
            settlement=settlement_pb2_grpc.SettlementServiceStub(channel),
            private_key=auth.load_private_key(settings.keys_dir),
        )
    finally:
        channel.close()
        server.grpc_server.stop(0).wait()


def migrated_engine(url: str) -> sa.Engine:
    """An engine on a database that tests.databases.fresh_database already migrated."""
    return db.make_engine(Settings(db_url=url))
