"""BatchService over real gRPC (in-process server, real interceptors), on MariaDB and SQLite."""

from __future__ import annotations

import datetime as dt
import socket
import time

import grpc
import pytest

from entrypoints.servers import batch as batch_main
from paysystem.v1 import batch_pb2, batch_pb2_grpc
from services.common import auth, db
from services.common.server import Server, ServiceContext
from services.common.settings import Settings
from tests.databases import fresh_database
from tests.plugins.jobs import add_plays, add_videos, clear, random_plays

PORT = {"mariadb": 21001, "sqlite": 21002}
DAYS = [dt.date(2026, 10, 5), dt.date(2026, 10, 6)]


@pytest.fixture(scope="module", params=["mariadb", "sqlite"])
def batch_service(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("batch_service")
    # An "Envoy admin" that takes connections and never answers: ListInstances must give up
    # after its short timeout (the real admin endpoint is in tests/e2e/test_batch_admin_reads.py).
    silent = socket.create_server(("127.0.0.1", 0))
    silent_url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    with silent, fresh_database(request.param, "paysystem_jobs_", tmp) as url:
        settings = Settings(data_dir=tmp, db_url=url, batch_workers=2, envoy_admin_url=silent_url)
        auth.ensure_keys(settings.keys_dir)
        ctx = ServiceContext(settings=settings, engine=db.make_engine(settings), instance="batch-test")
        server = Server("batch", batch_main.build(ctx), ctx, PORT[request.param])
        server.grpc_server.start()
        channel = grpc.insecure_channel(server.address)
        yield batch_pb2_grpc.BatchServiceStub(channel), ctx
        channel.close()
        server.grpc_server.stop(0).wait()
        ctx.engine.dispose()


@pytest.fixture
def service(batch_service):
    stub, ctx = batch_service
    clear(ctx.engine)
    add_videos(ctx.engine, range(1, 21))
    add_plays(ctx.engine, random_plays(DAYS, list(range(1, 21)), 200))
    return batch_service


def _token(ctx, role: str) -> list[tuple[str, str]]:
    token = auth.issue_token(
        auth.load_private_key(ctx.settings.keys_dir),
        auth.Principal(account_id=1, username="someone", role=role),
        issuer=ctx.settings.jwt_issuer,
        ttl_sec=60,
    )
    return [("authorization", f"Bearer {token}")]


def test_an_admin_run_streams_events_to_an_explicit_final_event(service):
    stub, ctx = service
    events = list(
        stub.RunJob(
            batch_pb2.RunJobRequest(job="daily", date="2026-10-05", to_date="2026-10-06", partitions=2),
            metadata=_token(ctx, "ADMIN"),
        )
    )
    types = [batch_pb2.JobEventType.Name(e.type) for e in events]
    assert types[0] == "JOB_STARTED" and types[-1] == "JOB_FINISHED"
    assert events[-1].final and not any(e.final for e in events[:-1])
    assert types.count("PARTITION_FINISHED") == 4 and types.count("JOB_FINISHED") == 3
    assert events[-1].rows_read == 400 and events[-1].day == "2026-10-06"
    assert (events[-1].first_day, events[-1].last_day) == ("2026-10-05", "2026-10-06")

    execution = stub.GetJobExecution(
        batch_pb2.GetJobExecutionRequest(job_execution_id=events[0].job_execution_id), metadata=_token(ctx, "ADMIN")
    )
    assert (execution.job_name, execution.parameters, execution.status) == (
        "daily",
        '{"date":"2026-10-05"}',
        "COMPLETED",
    )
    assert [p.status for p in execution.partitions] == ["COMPLETED", "COMPLETED"]
    assert sum(p.rows_read for p in execution.partitions) == 200
    assert execution.ended_at.ToMicroseconds() >= execution.started_at.ToMicroseconds() > 0


@pytest.mark.parametrize("role", ["SELLER", "VIEWER", "INGEST"])
def test_only_an_admin_may_run_a_job_or_read_an_execution(service, role):
    stub, ctx = service
    with pytest.raises(grpc.RpcError) as caught:
        list(stub.RunJob(batch_pb2.RunJobRequest(date="2026-10-05"), metadata=_token(ctx, role)))
    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetJobExecution(batch_pb2.GetJobExecutionRequest(job_execution_id=1), metadata=_token(ctx, role))
    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as caught:
        stub.ListJobExecutions(batch_pb2.ListJobExecutionsRequest(), metadata=_token(ctx, role))
    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as caught:
        stub.ListInstances(batch_pb2.ListInstancesRequest(), metadata=_token(ctx, role))
    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED


def test_a_run_without_a_token_is_unauthenticated(service):
    stub, _ = service
    with pytest.raises(grpc.RpcError) as caught:
        list(stub.RunJob(batch_pb2.RunJobRequest(date="2026-10-05")))
    assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize(
    "request_fields, message",
    [
        ({"date": "2026-10-5"}, "date"),
        ({"date": "2026-02-30"}, "is not a real date"),
        ({"date": "20261005"}, "YYYY-MM-DD"),
        ({"date": "2026-10-06", "to_date": "2026-10-05"}, "before date"),
        ({"date": "2025-01-01", "to_date": "2026-10-05"}, "at most 366 days"),
        ({"to_date": "2026-10-05"}, "to_date needs date"),
        ({"job": "nightly", "date": "2026-10-05"}, "unknown job"),
        ({"date": "2026-10-05", "partitions": -1}, "partitions"),
    ],
)
def test_bad_requests_are_invalid_arguments_and_run_nothing(service, request_fields, message):
    stub, ctx = service
    with pytest.raises(grpc.RpcError) as caught:
        list(stub.RunJob(batch_pb2.RunJobRequest(**request_fields), metadata=_token(ctx, "ADMIN")))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert message in caught.value.details()
    with ctx.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM job_execution").scalar_one() == 0


def test_a_missing_execution_is_not_found(service):
    stub, ctx = service
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetJobExecution(batch_pb2.GetJobExecutionRequest(job_execution_id=987654), metadata=_token(ctx, "ADMIN"))
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND


def test_run_partition_of_a_missing_partition_execution_is_not_found_and_needs_an_admin(service):
    stub, ctx = service
    with pytest.raises(grpc.RpcError) as caught:
        list(
            stub.RunPartition(
                batch_pb2.RunPartitionRequest(partition_execution_id=987654), metadata=_token(ctx, "ADMIN")
            )
        )
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as caught:
        list(
            stub.RunPartition(
                batch_pb2.RunPartitionRequest(partition_execution_id=987654), metadata=_token(ctx, "SELLER")
            )
        )
    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED


def test_executions_are_listed_newest_first_with_their_partitions_up_to_the_limit(service):
    stub, ctx = service
    admin = _token(ctx, "ADMIN")
    ran = []
    for day in DAYS:
        events = list(stub.RunJob(batch_pb2.RunJobRequest(date=day.isoformat(), partitions=2), metadata=admin))
        ran.append(events[0].job_execution_id)

    listed = stub.ListJobExecutions(batch_pb2.ListJobExecutionsRequest(), metadata=admin).executions
    assert [e.job_execution_id for e in listed] == ran[::-1]
    assert [e.parameters for e in listed] == ['{"date":"2026-10-06"}', '{"date":"2026-10-05"}']
    for execution in listed:
        assert execution.status == "COMPLETED" and execution.started_at.seconds > 0
        assert [p.status for p in execution.partitions] == ["COMPLETED", "COMPLETED"]
        assert sum(p.rows_read for p in execution.partitions) == 200
    one = stub.ListJobExecutions(batch_pb2.ListJobExecutionsRequest(limit=1), metadata=admin).executions
    assert [e.job_execution_id for e in one] == [ran[-1]]


@pytest.mark.parametrize("limit", [-1, 101])
def test_a_limit_outside_1_to_100_is_an_invalid_argument(service, limit):
    stub, ctx = service
    with pytest.raises(grpc.RpcError) as caught:
        stub.ListJobExecutions(batch_pb2.ListJobExecutionsRequest(limit=limit), metadata=_token(ctx, "ADMIN"))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() == "limit: must be 1..100 (0 means 20)"


def test_an_envoy_admin_that_does_not_answer_is_unavailable_within_its_short_timeout(service):
    stub, ctx = service
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as caught:
        stub.ListInstances(batch_pb2.ListInstancesRequest(), metadata=_token(ctx, "ADMIN"), timeout=10)
    elapsed = time.monotonic() - started
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
    assert (
        ctx.settings.envoy_admin_url in caught.value.details() and "PAYSYSTEM_ENVOY_ADMIN_URL" in caught.value.details()
    )
    assert elapsed < 3.0
