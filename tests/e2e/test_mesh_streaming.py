"""Server streaming through Envoy: RunJob as newline-delimited JSON and as a gRPC stream."""

from __future__ import annotations

import json

import grpc
import pytest

from paysystem.v1 import batch_pb2, batch_pb2_grpc

# A day long before any test's data: running it changes nothing another test looks at.
QUIET_DAY = "2001-01-01"


def test_a_job_run_over_json_streams_one_event_per_line_ending_with_the_final_event(mesh):
    _, admin = mesh.create_admin()
    status, body = mesh.json("POST", "/v1/batch/jobs", {"job": "daily", "date": QUIET_DAY, "rerun": True}, token=admin)
    assert status == 200, body
    assert isinstance(body, str), "a stream is several JSON documents, not one"
    events = [json.loads(line) for line in body.splitlines() if line.strip()]
    assert len(events) >= 2
    assert events[0]["type"] == "JOB_STARTED"
    assert events[-1]["final"] is True and events[-1]["type"] == "JOB_FINISHED"
    assert [e["final"] for e in events[:-1]] == [False] * (len(events) - 1)


def test_a_job_run_over_grpc_streams_through_envoy(mesh):
    _, admin = mesh.create_admin()
    stub = batch_pb2_grpc.BatchServiceStub(mesh.channel())
    events = list(
        stub.RunJob(
            batch_pb2.RunJobRequest(job="daily", date=QUIET_DAY, rerun=True), metadata=mesh.metadata(admin), timeout=60
        )
    )
    assert events[-1].final and events[-1].type == batch_pb2.JOB_FINISHED


def test_only_an_admin_may_run_a_job(mesh, seller):
    status, body = mesh.json("POST", "/v1/batch/jobs", {"job": "daily", "date": QUIET_DAY}, token=seller[1])
    assert status == 403, body
    assert body["code"] == grpc.StatusCode.PERMISSION_DENIED.value[0]
    stub = batch_pb2_grpc.BatchServiceStub(mesh.channel())
    with pytest.raises(grpc.RpcError) as caught:
        list(
            stub.RunJob(
                batch_pb2.RunJobRequest(job="daily", date=QUIET_DAY), metadata=mesh.metadata(seller[1]), timeout=30
            )
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
