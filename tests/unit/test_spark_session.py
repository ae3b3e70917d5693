"""The Spark engine's session settings and its one-line errors, without starting a JVM."""

from __future__ import annotations

import pytest

from batch.spark.session import SparkUnavailable, jdbc_source, require_spark, spark_conf
from services.common.settings import Settings


def test_the_jdbc_url_takes_mysql_scheme_with_the_mariadb_driver():
    source = jdbc_source("mysql+pymysql://root:s3cret@db.example:3307/paysystem?charset=utf8mb4")
    assert source.url == "jdbc:mysql://db.example:3307/paysystem?permitMysqlScheme"
    assert source.properties == {"driver": "org.mariadb.jdbc.Driver", "user": "root", "password": "s3cret"}


def test_sqlite_is_refused_with_the_parquet_alternative():
    with pytest.raises(SparkUnavailable, match="PAYSYSTEM_SPARK_PLAYS=parquet"):
        jdbc_source("sqlite:///x.db")


def test_a_missing_driver_is_one_line_naming_the_package(tmp_path):
    settings = Settings(spark_jdbc_jar=str(tmp_path / "absent.jar"))
    with pytest.raises(SparkUnavailable) as raised:
        require_spark(settings)
    message = str(raised.value)
    assert "libmariadb-java" in message and "\n" not in message


def test_missing_java_is_one_line_naming_the_package(monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SparkUnavailable, match="openjdk-17-jre-headless"):
        require_spark(Settings())


def test_the_conf_downloads_nothing_and_uses_the_settings():
    conf = spark_conf(Settings(spark_partitions=6, spark_executor_memory="2g", spark_jdbc_jar="/opt/driver.jar"))
    assert conf["spark.jars"] == "/opt/driver.jar"
    assert conf["spark.sql.shuffle.partitions"] == "6" and conf["spark.executor.memory"] == "2g"
    assert not any(key.startswith("spark.jars.packages") for key in conf)


def test_load_steps_picks_the_engine_the_settings_name():
    import batch.spark.steps
    import batch.steps
    from batch.jobs.worker import load_steps

    assert load_steps() is batch.steps
    assert load_steps(Settings(batch_engine="sql")) is batch.steps
    settings = Settings(batch_engine="spark", spark_plays="parquet:/tmp/history")
    before = batch.spark.steps._Configured.settings
    try:
        assert load_steps(settings) is batch.spark.steps
        assert batch.spark.steps._Configured.settings is settings
    finally:
        batch.spark.steps._Configured.settings = before
    public = {"compute_day_partition", "compute_stream_limit", "days_to_compute", "finish_day", "freeze_closed_day"}
    public |= {"tier_tables", "video_id_bounds", "current_play_watermark", "BadPlayRow", "StepCounts"}
    assert public <= set(batch.spark.steps.__all__) and public <= set(batch.steps.__all__)


def test_load_steps_says_what_the_spark_engine_is_missing(tmp_path):
    from batch.jobs.worker import load_steps

    with pytest.raises(SparkUnavailable, match="libmariadb-java"):
        load_steps(Settings(batch_engine="spark", spark_jdbc_jar=str(tmp_path / "absent.jar")))


def test_the_driver_advertises_its_host_name_and_listens_everywhere_when_workers_are_elsewhere():
    local = spark_conf(Settings())
    assert (local["spark.driver.host"], local["spark.driver.bindAddress"]) == ("127.0.0.1", "127.0.0.1")
    remote = spark_conf(Settings(spark_driver_host="batch-spark"))
    assert (remote["spark.driver.host"], remote["spark.driver.bindAddress"]) == ("batch-spark", "0.0.0.0")
