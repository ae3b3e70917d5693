"""Settings, read once from PAYSYSTEM_* environment variables into a frozen object.

No other module reads os.environ: processes call `get_settings()` (or build `Settings(...)`
in tests) and pass values down.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAYSYSTEM_", frozen=True)

    # Local state: the embedded database, signing keys, logs, Envoy's rendered config.
    data_dir: Path = Field(default=Path(".paysystem"))
    # SQLAlchemy URL; empty means the embedded SQLite file in data_dir.
    db_url: str = ""
    # Read replicas of db_url, comma-separated SQLAlchemy URLs; empty = every read on the
    # primary. Only the read services (statistics, settlement's statements and series) read
    # from them (services/readpath/readrouter.py, docs/scaling.md "Read replicas").
    db_read_urls: str = ""
    # A replica whose heartbeat (written by the primary's batch every second) is older than
    # this, or that does not answer, is out of use until it catches up.
    db_replica_max_lag_ms: int = 2000
    # How long a job waits for every replica in use to apply its figures before it takes a
    # replica out of use (at least the max lag plus two health checks: see replicas.py).
    db_replica_wait_sec: float = 10.0
    # Optional: without it the settlement cache is off and reads go to the database.
    # redis://host:port/db is one node; redis+cluster://h1:p1,h2:p2 a Redis Cluster's seed
    # nodes (services/readpath/cache.py make_redis, docs/scaling.md).
    redis_url: str = ""
    # Calendar days are days in this zone.
    timezone: str = "Asia/Seoul"

    http_port: int = 8080  # Envoy's one listener: JSON and gRPC
    envoy_admin_port: int = 9901  # bound to 127.0.0.1 only
    # Where the batch reads Envoy's admin /clusters (BatchService.ListInstances), http://host:port;
    # empty = http://127.0.0.1:{envoy_admin_port}, the mesh's own Envoy on this machine.
    envoy_admin_url: str = ""
    service_base_port: int = 20050  # instances take consecutive ports from here (below the ephemeral range)
    service_host: str = "127.0.0.1"  # services listen here; only Envoy should reach them
    metrics_base_port: int = 0  # 0 = no Prometheus endpoint

    token_ttl_sec: int = 900
    # A playback recorded with an account's own token (not an INGEST account's) more than
    # this long after it started is rejected (DESIGN 2 "Invalid activity at ingest").
    viewer_late_window_sec: int = 7 * 86_400
    jwt_issuer: str = "paysystem"
    # Allowed clock skew when checking token expiry, at the edge and in the services.
    jwt_leeway_sec: int = 5

    grpc_workers: int = 16  # threads per service instance
    # VideoService.ImportPlays streams: at most import_streams_max at once per instance (the
    # rest are refused at once), so unary calls always keep grpc_workers - import_streams_max
    # threads; a stream that sends no events for import_idle_sec, or is open longer than
    # import_max_sec, is ended with DEADLINE_EXCEEDED (docs/operations.md, Limits).
    import_streams_max: int = 4
    import_idle_sec: float = 10.0
    import_max_sec: float = 600.0
    # A token is honoured only while its account exists and is not disabled; each instance
    # remembers accounts it found active for this long (0 = ask the database every call),
    # re-reading them all in one query every half of it (account_status.py).
    account_check_ttl_sec: float = 5.0
    # Log-in throttle per username: after login_max_failures failed log-ins within
    # login_failure_window_sec, every attempt is refused until the window ends (in Redis when
    # redis_url is set, so every account instance sees it; else per process).
    login_max_failures: int = 5
    login_failure_window_sec: int = 300
    # The launcher pins instance n of each read service (statistics, settlement) to one CPU,
    # (n-1) modulo the CPUs it may use (docs/decisions.md, "One CPU per read instance").
    # False: the kernel places them.
    pin_instances: bool = True
    # Read services poll the batch's data version every data_version_poll_ms and trust a
    # reading for data_version_max_age_ms at most, and never longer than the window the batch
    # published with it: the batch publishes its own data_version_max_age_ms and waits it out
    # before it reports a job finished (services/readpath/dataversion.py). 0 = read it on
    # every request.
    data_version_poll_ms: int = 100
    data_version_max_age_ms: int = 300
    # Each read instance keeps rendered statements and top-5 lists (only what Redis holds
    # too) for local_cache_ttl_ms, within local_cache_mb of memory; 0 = no local copy.
    local_cache_ttl_ms: int = 5000
    local_cache_mb: int = 32
    shutdown_grace_sec: float = 5.0
    batch_workers: int = Field(default_factory=lambda: os.cpu_count() or 2)
    # Where a batch instance running a job (RunJob) sends each partition, as RunPartition
    # calls: Envoy's address, host:port (the launcher sets it for the mesh's batch instances).
    # Empty: partitions run in the coordinating process's own thread pool.
    batch_dispatch_url: str = ""
    # Attempts per dispatched partition when its worker is lost (killed, reset, unreachable).
    batch_partition_attempts: int = 3
    # Which engine computes a partition's day (docs/scaling.md "Two batch engines"): `sql`
    # inside the database (the default), or `spark` on a Spark cluster, with the same job
    # repository and identical figures (batch/spark/).
    batch_engine: Literal["sql", "spark"] = "sql"
    # The Spark engine's cluster: `local[*]` (threads in the batch's own process) or a
    # standalone master, spark://host:7077.
    spark_master: str = "local[*]"
    # Each executor's memory and cores, and the partitions of Spark's shuffles (joins, windows).
    spark_executor_memory: str = "1g"
    spark_executor_cores: int = 1
    spark_partitions: int = 8
    # The MariaDB JDBC driver Spark reads the database with (Debian's libmariadb-java); empty:
    # /usr/share/java/mariadb-java-client.jar. Nothing is downloaded at run time.
    spark_jdbc_jar: str = ""
    # Where the Spark engine reads the plays: `jdbc` (the database, from a replica when
    # db_read_urls names one) or `parquet:URI` (a Parquet history of local_day=YYYY-MM-DD/
    # folders, as `paysystem plays export` and the archive write it).
    spark_plays: str = "jdbc"
    # The address the Spark driver (the batch process) advertises to its executors: the
    # loopback for local[*] and a cluster on this machine; the batch's host name when the
    # workers run elsewhere (in compose, the container's name). It then listens on every
    # interface.
    spark_driver_host: str = "127.0.0.1"
    # On a cluster, how long a Spark job waits with no executor left (the workers, or the
    # master that would replace them, gone) before it is cancelled: the partition then fails
    # in one line and the execution is restartable, instead of waiting forever.
    spark_executor_wait_sec: float = 120.0
    # The webhook dispatcher (services/webhooks/dispatcher.py, docs/webhooks.md): how often it
    # looks for new events and due deliveries when idle, each request's timeout, and the retry
    # schedule (wait after the n-th failure: base * 2^(n-1), at most the cap; given up when the
    # next attempt would be later than give_up_after after the first). Tests shrink them.
    webhook_poll_ms: int = Field(default=500, ge=1)
    webhook_timeout_sec: float = Field(default=5.0, gt=0, le=60)
    webhook_backoff_base_ms: int = Field(default=10_000, ge=1)
    webhook_backoff_cap_ms: int = Field(default=3_600_000, ge=1)
    webhook_give_up_after_sec: float = Field(default=3 * 86_400, gt=0)
    log_level: str = "INFO"
    log_format: str = "json"  # json | text
    # Tests only: the business clock stands still at this instant (services/common/clock.py),
    # ISO 8601, local to `timezone` unless it has an offset. It moves money dates, so it is
    # refused unless test_mode is set too.
    test_now: str = ""
    test_mode: bool = False

    @model_validator(mode="after")
    def _unary_calls_keep_threads(self) -> Settings:
        if not 1 <= self.import_streams_max < self.grpc_workers:
            raise ValueError(
                f"PAYSYSTEM_IMPORT_STREAMS_MAX must be 1..{self.grpc_workers - 1} (below PAYSYSTEM_GRPC_WORKERS,"
                f" so unary calls keep threads), got {self.import_streams_max}"
            )
        return self

    @model_validator(mode="after")
    def _test_clock_only_in_tests(self) -> Settings:
        if self.test_now and not self.test_mode:
            raise ValueError(
                "PAYSYSTEM_TEST_NOW moves the business clock and is for tests only: it is refused"
                " unless PAYSYSTEM_TEST_MODE=1 is set too (never in production)"
            )
        if self.test_now:
            self.test_now_us  # noqa: B018 - parses it now, so a bad value stops start-up
        return self

    @property
    def test_now_us(self) -> int | None:
        """PAYSYSTEM_TEST_NOW as µs since the epoch; None when unset."""
        if not self.test_now:
            return None
        try:
            instant = dt.datetime.fromisoformat(self.test_now)
        except ValueError as exc:
            raise ValueError(f"PAYSYSTEM_TEST_NOW: not an ISO 8601 instant: {self.test_now!r}") from exc
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=self.zone)
        return int(instant.timestamp()) * 1_000_000 + instant.microsecond

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"PAYSYSTEM_TIMEZONE: unknown time zone {value!r}") from exc
        return value

    @field_validator("envoy_admin_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"PAYSYSTEM_ENVOY_ADMIN_URL: must be empty or http://host:port, got {value!r}")
        return value

    @field_validator("viewer_late_window_sec")
    @classmethod
    def _positive_window(cls, value: int) -> int:
        if value <= 0:
            raise ValueError(f"PAYSYSTEM_VIEWER_LATE_WINDOW_SEC: must be a positive number of seconds, got {value}")
        return value

    @field_validator("db_read_urls")
    @classmethod
    def _replica_urls(cls, value: str) -> str:
        for url in (u.strip() for u in value.split(",") if u.strip()):
            if "://" not in url:
                raise ValueError(f"PAYSYSTEM_DB_READ_URLS: not a SQLAlchemy URL: {url!r}")
        return value

    @property
    def read_urls(self) -> tuple[str, ...]:
        """The replicas' URLs, in the order given."""
        return tuple(u.strip() for u in self.db_read_urls.split(",") if u.strip())

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{self.data_dir.resolve() / 'paysystem.db'}"

    @property
    def spark_jdbc_jar_path(self) -> Path:
        return Path(self.spark_jdbc_jar or "/usr/share/java/mariadb-java-client.jar")

    @property
    def envoy_admin_base_url(self) -> str:
        return self.envoy_admin_url or f"http://127.0.0.1:{self.envoy_admin_port}"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"


@functools.cache
def get_settings() -> Settings:
    """The process's settings; a bad value stops start-up with the variable's name."""
    return Settings()
