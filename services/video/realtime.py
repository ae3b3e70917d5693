"""The realtime estimate's two stores (domain/realtime.py has the rules: buckets by the
playback's start, self-views left out):

* Redis, when configured: ingest counts each stored playback (`RedisRealtime.count`) into one
  hash per seller (and per video) and UTC hour, a field per minute of the hour, so a read is
  48 HGETALLs in one pipeline and a count is one HINCRBY per (key, minute) and one EXPIREAT
  per key, run by one script call per seller (`_ADD`), all in one pipeline (one call per
  seller on a cluster). Keys carry the seller as their Redis Cluster hash tag
  (`key`), like the read cache's (services/readpath/cache.py): a seller's keys, its videos'
  included, live on one slot, so each pipeline goes to one node. A key expires
  `EXPIRY_SLACK_SEC` after its hour has left the 48-hour window. The prefix is not the read
  cache's `ps:`, whose keys a batch may delete all at once (Cache.invalidate_after_batch).
* The play history, without Redis (or while Redis fails at read time): `sql_per_minute`
  counts the window's plays through an index range, in the partitions of the window's local
  days only.

Counting is best-effort and never fails an ingest: the plays are stored (and committed)
before they are counted; a Redis failure or an open circuit (the breaker of
services/common/breakers.py) leaves those playbacks out of the Redis estimate, logs once
per outage and counts in paysystem_realtime_count_failures_total. Playbacks are counted once:
only the rows a call inserted (a resent event is a DUPLICATE and not counted again).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

import pybreaker
import sqlalchemy as sa

from domain import realtime
from domain.periods import local_day_of
from services.common.breakers import REDIS_ERRORS, Breaker
from services.common.metrics import REALTIME_COUNT_FAILURES
from services.readpath.cache import LazyCluster
from services.video.ports import PlayRow
from services.video.tables import plays, videos

log = logging.getLogger(__name__)

PREFIX = "psrt"
EXPIRY_SLACK_SEC = 600
_SELLER_CACHE_LIMIT = 1_000_000


def key(seller_id: int, video_id: int | None, hour_start_us: int) -> str:
    """`psrt:{seller}:s:<hour>` (the seller's total) or `psrt:{seller}:v<video>:<hour>`; the
    hour as epoch seconds. `{seller}` is the Redis Cluster hash tag: only it picks the slot."""
    scope = "s" if video_id is None else f"v{video_id}"
    return f"{PREFIX}:{{{seller_id}}}:{scope}:{hour_start_us // 1_000_000}"


# A seller's increments of one ingest call in one command (its keys share a slot, so this
# runs on a cluster too): per key, two ARGVs: its expiry (EXPIREAT) and its increments as
# "minute:n,minute:n" (minute of the hour, 0-59). One reply per seller instead of one per HINCRBY: a
# 5,000-playback call over 2,000 videos took 0.5 s as separate HINCRBYs in a pipeline.
_ADD = """
for i, k in ipairs(KEYS) do
  for minute, n in string.gmatch(ARGV[2 * i], "(%d+):(%d+)") do
    redis.call('HINCRBY', k, minute, n)
  end
  redis.call('EXPIREAT', k, ARGV[2 * i - 1])
end
return #KEYS
"""


def _expire_at_sec(hour_start_us: int) -> int:
    return (hour_start_us + realtime.HOURS * realtime.HOUR_US) // 1_000_000 + EXPIRY_SLACK_SEC


class RedisRealtime:
    """Counts and reads the estimate in Redis. `client`: services/readpath/cache.make_redis's
    client (one node or a cluster); `breaker`: the process's Redis breaker."""

    def __init__(self, client, breaker: Breaker) -> None:
        self.client = client
        self.breaker = breaker
        self._failing = False

    def count(self, counted: Sequence[tuple[int, int, int]], now_us: int) -> bool:
        """Adds the playbacks (seller_id, video_id, started_at_us), already filtered (not
        self-views, inside the window at `now_us`). False if Redis failed (logged, counted)."""
        if not counted:
            return True
        increments: Counter[tuple[int, int | None, int]] = Counter()
        for seller_id, video_id, started_at_us in counted:
            minute = realtime.minute_start(started_at_us)
            increments[(seller_id, None, minute)] += 1
            increments[(seller_id, video_id, minute)] += 1
        # One script call per seller (its keys share a slot): key -> (expire at, "minute:n,...")
        per_seller: dict[int, dict[str, tuple[int, list[str]]]] = {}
        for (seller_id, scope, minute), n in increments.items():
            hour = realtime.hour_start(minute)
            keys = per_seller.setdefault(seller_id, {})
            entry = keys.setdefault(key(seller_id, scope, hour), (_expire_at_sec(hour), []))
            entry[1].append(f"{(minute - hour) // realtime.MINUTE_US}:{n}")

        def send() -> None:
            # One pipeline on one node; on a cluster, whose pipelines take no scripts, one call
            # per seller (each to the node of the seller's slot).
            pipe = None if isinstance(self.client, LazyCluster) else self.client.pipeline(transaction=False)
            target = self.client if pipe is None else pipe  # (an empty pipeline is falsy: no `or`)
            for _, keys in sorted(per_seller.items()):
                args: list[object] = []
                for expire_at, pairs in keys.values():
                    args += (expire_at, ",".join(pairs))
                target.eval(_ADD, len(keys), *keys, *args)
            if pipe is not None:
                pipe.execute()

        try:
            self.breaker.call(send)
        except (pybreaker.CircuitBreakerError, *REDIS_ERRORS) as exc:
            REALTIME_COUNT_FAILURES.inc()
            if not self._failing:
                self._failing = True
                log.warning("realtime estimate not counted in Redis (the plays are stored): %s", exc)
            return False
        if self._failing:
            self._failing = False
            log.info("realtime estimate counted in Redis again")
        return True

    def per_minute(self, seller_id: int, video_id: int | None, now_us: int) -> dict[int, int]:
        """Playbacks per minute start over the window at `now_us`. Raises the Redis error (or
        pybreaker.CircuitBreakerError): the caller reads the play history instead."""
        first = realtime.window_start(now_us)
        hours = range(first, first + realtime.HOURS * realtime.HOUR_US, realtime.HOUR_US)

        def fetch() -> list:
            pipe = self.client.pipeline(transaction=False)
            for hour in hours:
                pipe.hgetall(key(seller_id, video_id, hour))
            return pipe.execute()

        counts: dict[int, int] = {}
        for hour, fields in zip(hours, self.breaker.call(fetch), strict=True):
            for minute, n in fields.items():
                counts[hour + int(minute) * realtime.MINUTE_US] = int(n)
        return counts


class IngestCounter:
    """What the ingest calls after each store (ingest.Ingest's `on_stored`): the rows it
    inserted, counted in Redis. Looks up each video's seller once (a video never changes
    seller) and never raises."""

    def __init__(self, store: RedisRealtime, sellers: Callable[[list[int]], dict[int, int]]) -> None:
        self._store = store
        self._sellers = sellers
        self._known: dict[int, int] = {}
        self._lock = threading.Lock()

    def __call__(self, rows: Sequence[PlayRow], now_us: int) -> None:
        try:
            recent = [r for r in rows if realtime.in_window(r[3], now_us)]
            if not recent:
                return
            sellers = self._seller_of({r[1] for r in recent})
            counted = [
                (sellers[r[1]], r[1], r[3])
                for r in recent
                if r[1] in sellers and realtime.is_counted(r[2], sellers[r[1]])
            ]
            self._store.count(counted, now_us)
        except Exception:  # noqa: BLE001 - best-effort: the plays are stored whatever happens here
            REALTIME_COUNT_FAILURES.inc()
            log.exception("realtime estimate not counted (the plays are stored)")

    def _seller_of(self, video_ids: set[int]) -> dict[int, int]:
        missing = sorted(v for v in video_ids if v not in self._known)
        if missing:
            found = self._sellers(missing)
            with self._lock:
                if len(self._known) > _SELLER_CACHE_LIMIT:
                    self._known.clear()
                self._known.update(found)
        known = self._known
        return {v: known[v] for v in video_ids if v in known}


def sellers_of(engine: sa.Engine) -> Callable[[list[int]], dict[int, int]]:
    def lookup(video_ids: list[int]) -> dict[int, int]:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(videos.c.video_id, videos.c.seller_id).where(videos.c.video_id.in_(video_ids))
            )
            return {int(r.video_id): int(r.seller_id) for r in rows}

    return lookup


def sql_per_minute(
    conn: sa.Connection, seller_id: int, video_id: int | None, now_us: int, zone: ZoneInfo
) -> dict[int, int]:
    """Playbacks per minute start over the window at `now_us`, from the play history: the
    plays of the seller's videos (or of the one video) started in the window, self-views left
    out."""
    return {int(row.minute): int(row.n) for row in conn.execute(per_minute_query(seller_id, video_id, now_us, zone))}


def per_minute_query(seller_id: int, video_id: int | None, now_us: int, zone: ZoneInfo) -> sa.Select:
    """sql_per_minute's query. Bounded by the window, whatever the history's size: the
    local_day bound prunes the month partitions (migration 0014) and makes the window's days a
    range of ix_plays_day_scan, which covers the query (or the started_at range of
    ix_plays_started: tests/integration/test_realtime_stores.py checks MariaDB's plan)."""
    first, end = realtime.window_start(now_us), realtime.window_end(now_us)
    minute = sa.literal(realtime.MINUTE_US, sa.BigInteger)
    # (t - t % m) is the minute's start on both storages (no integer division to agree on)
    bucket = (plays.c.started_at_us - plays.c.started_at_us % minute).label("minute")
    where = [
        plays.c.started_at_us >= first,
        plays.c.started_at_us < end,
        plays.c.local_day >= local_day_of(first, zone),
        videos.c.seller_id == seller_id,
        plays.c.viewer_id != videos.c.seller_id,
    ]
    if video_id is not None:
        where.append(plays.c.video_id == video_id)
    return (
        sa.select(bucket, sa.func.count().label("n"))
        .select_from(plays.join(videos, videos.c.video_id == plays.c.video_id))
        .where(*where)
        .group_by(bucket)
    )
