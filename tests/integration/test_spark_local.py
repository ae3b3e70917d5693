"""A real local Spark session reads the real MariaDB through Debian's JDBC driver."""

from __future__ import annotations

import sqlalchemy as sa

from batch.spark.session import jdbc_source
from tests.databases import fresh_database


def test_spark_reads_a_table_through_jdbc(spark_local, tmp_path):
    with fresh_database("mariadb", "paysystem_spark_", tmp_path) as url:
        _read_back(spark_local, url)


def _read_back(spark_local, mysql_url: str) -> None:
    engine = sa.create_engine(mysql_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS spark_probe")
        conn.exec_driver_sql("CREATE TABLE spark_probe (v BIGINT PRIMARY KEY, amount DECIMAL(24, 4))")
        conn.exec_driver_sql("INSERT INTO spark_probe VALUES (1, 0.1000), (2, 12345678901234567890.1234)")
    engine.dispose()
    source = jdbc_source(mysql_url)
    frame = spark_local.read.jdbc(source.url, "spark_probe", properties=source.properties)
    rows = sorted((row.v, str(row.amount)) for row in frame.collect())
    assert rows == [(1, "0.1000"), (2, "12345678901234567890.1234")]
