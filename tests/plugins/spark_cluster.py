"""A Spark standalone cluster for the tests (tests/spark_cluster.py): one master and two
workers of one core and 1g, started once per test run (a start costs about 10 s) and
stopped at the end; its logs stay under the run's tmp dir and are printed when a test
using it fails.

A test that kills a worker or the master (`kill_worker`, `kill_master`) calls
`spark_cluster.heal()` before it ends, so the next test finds two workers again.
`spark_cluster_factory(workers=1)` starts another cluster of its own (stopped at the end
of the test), e.g. one worker against two.
"""

from __future__ import annotations

import pytest

from tests.spark_cluster import SparkStandalone


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory):
    cluster = SparkStandalone(tmp_path_factory.mktemp("spark-cluster"), workers=2).start()
    yield cluster
    cluster.stop()


class ClusterFactory:
    """Starts clusters of their own under one folder; `stop_all` stops them."""

    def __init__(self, workdir) -> None:
        self.workdir = workdir
        self.clusters: list[SparkStandalone] = []

    def __call__(self, workers: int = 1) -> SparkStandalone:
        cluster = SparkStandalone(self.workdir / f"spark-cluster-{len(self.clusters)}", workers=workers)
        self.clusters.append(cluster)
        return cluster.start()

    def stop_all(self) -> None:
        for cluster in self.clusters:
            cluster.stop()


@pytest.fixture
def spark_cluster_factory(tmp_path):
    factory = ClusterFactory(tmp_path)
    yield factory
    factory.stop_all()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not (report.failed and report.when == "call"):
        return
    funcargs = getattr(item, "funcargs", {})
    clusters = [funcargs["spark_cluster"]] if "spark_cluster" in funcargs else []
    if "spark_cluster_factory" in funcargs:
        clusters += funcargs["spark_cluster_factory"].clusters
    for cluster in clusters:
        report.sections.append((f"spark cluster logs ({cluster.workdir})", cluster.logs_tail()))
