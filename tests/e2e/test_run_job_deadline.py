"""RunJob whose client deadline passes part-way (issue 32): the job is not stopped; it runs to
its end on the batch instance, and the client follows it with GET /v1/batch/jobs/{id} (each
day's execution id is in that day's events) or GET /v1/batch/jobs, as docs/api.md and the
proto's comment say."""

from __future__ import annotations

import datetime as dt
import json
import time

import grpc
import pytest

from paysystem.v1 import batch_pb2, batch_pb2_grpc

# Days long before any test's data (and not the ones test_mesh_streaming runs): running them
# changes nothing another test looks at.
FIRST, LAST = dt.date(2002, 1, 1), dt.date(2002, 6, 30)  # 181 days: several seconds of work
DAYS = {(FIRST + dt.timedelta(days=i)).isoformat() for i in range((LAST - FIRST).days + 1)}


def _executions(mesh, admin: str) -> list[dict]:
    status, body = mesh.json("GET", "/v1/batch/jobs?limit=100", token=admin)
    assert status == 200, body
    return body.get("executions", [])


def test_a_run_whose_client_deadline_passes_goes_on_to_its_end_and_can_be_followed(mesh):
    _, admin = mesh.create_admin()
    newest_before = max((int(e["job_execution_id"]) for e in _executions(mesh, admin)), default=0)
    stub = batch_pb2_grpc.BatchServiceStub(mesh.channel())
    request = batch_pb2.RunJobRequest(job="daily", date=FIRST.isoformat(), to_date=LAST.isoformat(), rerun=True)
    seen: list[batch_pb2.JobEvent] = []
    with pytest.raises(grpc.RpcError) as cut:
        for event in stub.RunJob(request, metadata=mesh.metadata(admin), timeout=1.0):
            seen.append(event)
    assert cut.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert not any(e.final for e in seen), "the run must outlast the deadline for this test to mean anything"

    # The run goes on to its last day (days run in order, a failed one ends the run): the last
    # day ends COMPLETED after the client went away, and no listed day of the run failed. (The
    # list holds the newest 100 executions, fewer than the run's days.)
    deadline = time.monotonic() + 180
    while True:
        mine = [e for e in _executions(mesh, admin) if int(e["job_execution_id"]) > newest_before]
        done = {json.loads(e["parameters"]).get("date") for e in mine if e["status"] == "COMPLETED"}
        if LAST.isoformat() in done or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert LAST.isoformat() in done, sorted(done)[-3:]
    assert {e["status"] for e in mine} == {"COMPLETED"}, [e for e in mine if e["status"] != "COMPLETED"][:3]
    assert len(mine) == min(100, len(DAYS))
    # A day's execution followed by its id, as a client that kept the one of its events would.
    followed = max(int(e["job_execution_id"]) for e in mine)
    status, body = mesh.json("GET", f"/v1/batch/jobs/{followed}", token=admin)
    assert status == 200 and body["status"] == "COMPLETED", body
