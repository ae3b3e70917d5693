"""The Spark session of the Spark engine, from the settings, and how Spark reaches the database.

Nothing is downloaded at run time: the JDBC driver is Debian's MariaDB Connector/J jar
(`spark.jars`, never `spark.jars.packages`), Java is the machine's. What is missing (pyspark,
Java, the jar) is said in one line by `SparkUnavailable`, before a JVM is started, instead of
a JVM stack trace.

Spark reads MariaDB through a `jdbc:mysql://...?permitMysqlScheme` URL with the MariaDB
driver class: a `jdbc:mariadb://` URL makes Spark pick its generic dialect, which quotes
column names with double quotes, and MariaDB then reads them as strings.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from services.common.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

JDBC_DRIVER = "org.mariadb.jdbc.Driver"
_lock = threading.Lock()


class SparkUnavailable(RuntimeError):
    """The Spark engine cannot start on this machine; the message says what to install."""


class SparkJobFailed(RuntimeError):
    """A Spark job of a step failed or was cancelled; the message is one line."""


@dataclass(frozen=True)
class JdbcSource:
    """What Spark's JDBC reader needs to read one database."""

    url: str
    properties: dict[str, str]


def require_spark(settings: Settings) -> None:
    """Raises SparkUnavailable with one line naming what is missing."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise SparkUnavailable(
            "the Spark engine needs pyspark: pip install -e '.[spark]' (PAYSYSTEM_BATCH_ENGINE=spark)"
        ) from None
    if not _java_found():
        raise SparkUnavailable(
            "the Spark engine needs Java 17 or newer: apt-get install openjdk-17-jre-headless (or set JAVA_HOME)"
        )
    jar = settings.spark_jdbc_jar_path
    if not jar.is_file():
        raise SparkUnavailable(
            f"the Spark engine needs the MariaDB JDBC driver at {jar}: apt-get install libmariadb-java"
            " (or set PAYSYSTEM_SPARK_JDBC_JAR)"
        )


def spark_session(settings: Settings) -> SparkSession:
    """The process's one Spark session for these settings (created on first use)."""
    require_spark(settings)
    from pyspark.sql import SparkSession

    with _lock:
        builder = SparkSession.builder.master(settings.spark_master).appName("paysystem-batch")
        for key, value in spark_conf(settings).items():
            builder = builder.config(key, value)
        spark = builder.getOrCreate()
        if not settings.spark_master.startswith("local") and not (
            ExecutorWatch.started and ExecutorWatch.started.is_alive()
        ):
            ExecutorWatch.started = threading.Thread(
                target=_watch_executors, args=(spark, settings.spark_executor_wait_sec), daemon=True
            )
            ExecutorWatch.started.start()
        return spark


class ExecutorWatch:
    """The session's watch of its executors (on a cluster): its thread, and why it last
    cancelled the running jobs."""

    started: threading.Thread | None = None
    reason = ""  # why the watch last cancelled the jobs


def _watch_executors(spark: SparkSession, wait_sec: float) -> None:
    """Cancels every running job once the session has had no executor for `wait_sec`
    (Spark itself would wait for one forever), and again after each further wait."""
    sc = spark.sparkContext
    since: float | None = None
    while sc._jsc is not None:
        try:
            executors = len(sc._jsc.sc().statusTracker().getExecutorInfos()) - 1
            running = bool(sc.statusTracker().getActiveJobsIds())
        except Exception:  # noqa: BLE001 - the session is stopping
            return
        if executors > 0 or not running:
            since = None
        elif since is None:
            since = time.monotonic()
        elif time.monotonic() - since >= wait_sec:
            ExecutorWatch.reason = f"no Spark executor for {wait_sec:g} s (is the cluster at {sc.master} up?)"
            sc.cancelAllJobs()
            since = None
        time.sleep(0.5)


@contextlib.contextmanager
def spark_failures(what: str) -> Iterator[None]:
    """Re-raises a Spark job's failure (a JVM exception and its stack trace) as
    SparkJobFailed with one line: what ran, and Spark's first line or why it was cancelled."""
    from py4j.protocol import Py4JJavaError  # type: ignore[import-untyped]
    from pyspark.errors import PySparkException

    try:
        yield
    except (Py4JJavaError, PySparkException) as exc:
        cause = str(exc.java_exception) if isinstance(exc, Py4JJavaError) else str(exc)
        first = next((line.strip() for line in cause.splitlines() if line.strip()), type(exc).__name__)
        if "cancel" in first and ExecutorWatch.reason:
            first = ExecutorWatch.reason
        raise SparkJobFailed(f"{what}: {first[:300]}") from None


def spark_conf(settings: Settings) -> dict[str, str]:
    """The Spark configuration the settings describe (a plain dict: tested without a JVM)."""
    return {
        "spark.jars": str(settings.spark_jdbc_jar_path),
        "spark.executor.memory": settings.spark_executor_memory,
        "spark.executor.cores": str(settings.spark_executor_cores),
        "spark.sql.shuffle.partitions": str(settings.spark_partitions),
        "spark.default.parallelism": str(settings.spark_partitions),
        # Instants are epoch microseconds and days are computed in the platform's zone by
        # our own code: Spark's session zone only matters for DATE columns, read as UTC.
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.host": settings.spark_driver_host,
        # Executors on other hosts connect back to the advertised name: listen on every
        # interface then; on the loopback only while the whole cluster is this machine.
        "spark.driver.bindAddress": "127.0.0.1" if _is_loopback(settings.spark_driver_host) else "0.0.0.0",
        # Exact arithmetic: overflow is an error, never a wrapped number.
        "spark.sql.ansi.enabled": "true",
    }


def jdbc_source(url: str) -> JdbcSource:
    """Spark's JDBC URL and properties for a SQLAlchemy MySQL/MariaDB URL."""
    parsed = sa.make_url(url)
    if not parsed.drivername.startswith(("mysql", "mariadb")):
        raise SparkUnavailable(
            f"the Spark engine reads MySQL/MariaDB only (PAYSYSTEM_DB_URL is {parsed.drivername}):"
            " set PAYSYSTEM_SPARK_PLAYS=parquet:URI to read a Parquet history instead"
        )
    host = parsed.host or "127.0.0.1"
    port = parsed.port or 3306
    properties: dict[str, Any] = {"driver": JDBC_DRIVER, "user": parsed.username or "root"}
    if parsed.password:
        properties["password"] = str(parsed.password)
    return JdbcSource(f"jdbc:mysql://{host}:{port}/{parsed.database}?permitMysqlScheme", properties)


def _is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def _java_found() -> bool:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and os.access(os.path.join(java_home, "bin", "java"), os.X_OK):
        return True
    return shutil.which("java") is not None
