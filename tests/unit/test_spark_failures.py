"""A Spark failure of a step becomes SparkJobFailed with one line (batch/spark/session.py);
a job the executor watch cancelled says why. No JVM needed."""

from __future__ import annotations

import pytest
from pyspark.errors import PySparkException

from batch.spark import session
from batch.spark.session import SparkJobFailed, spark_failures


def test_a_spark_failure_becomes_one_line_naming_the_step():
    with pytest.raises(SparkJobFailed) as caught, spark_failures("daily 2026-11-02 [1, 5)"):
        raise PySparkException("\n  Job aborted: stage 3 failed 4 times\n\tat org.apache.spark.Foo(Foo.scala:1)\n")
    assert str(caught.value) == "daily 2026-11-02 [1, 5): Job aborted: stage 3 failed 4 times"


def test_a_job_the_watch_cancelled_says_why(monkeypatch):
    monkeypatch.setattr(
        session.ExecutorWatch, "reason", "no Spark executor for 2 s (is the cluster at spark://h:7077 up?)"
    )
    with pytest.raises(SparkJobFailed) as caught, spark_failures("stream limit 2026-11-02"):
        raise PySparkException("Job 7 cancelled part of cancelled job group x\n\tat ...")
    assert str(caught.value) == (
        "stream limit 2026-11-02: no Spark executor for 2 s (is the cluster at spark://h:7077 up?)"
    )


def test_other_errors_pass_through():
    with pytest.raises(KeyError), spark_failures("daily"):
        raise KeyError("x")
