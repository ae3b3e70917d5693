"""Spark for the tests: one `local[2]` session per test run (a session costs seconds to start).

The standalone cluster (a master and workers started from the pyspark package) has its own
fixture beside this one when a test needs real executors in other processes.
"""

from __future__ import annotations

import pytest

from services.common.settings import Settings


@pytest.fixture(scope="session")
def spark_settings() -> Settings:
    return Settings(batch_engine="spark", spark_master="local[2]", spark_partitions=4)


@pytest.fixture(scope="session")
def spark_local(spark_settings):
    """A `local[2]` Spark session, stopped at the end of the run."""
    from batch.spark.session import spark_session

    session = spark_session(spark_settings)
    yield session
    session.stop()
