"""The admin dashboard's batch reads through Envoy: GET /v1/batch/jobs (the newest executions,
beside POST /v1/batch/jobs on the same path) and GET /v1/batch/instances (Envoy's own view of
every instance); admin only."""

from __future__ import annotations

# The quiet day that test_mesh_streaming runs too: before every day that other tests give plays,
# so computing it leaves no later day stale (each day is priced from the running totals of the
# days before it) and no earlier day is left to compute.
DAY = "2001-01-01"


def test_an_admin_lists_the_newest_executions_first_with_their_partitions(mesh):
    _, admin = mesh.create_admin()
    ran = []
    for _ in range(2):
        status, events = mesh.run_job({"job": "daily", "date": DAY, "rerun": True}, admin)
        assert status == 200 and events[-1]["type"] == "JOB_FINISHED", events
        ran.append(events[0]["job_execution_id"])

    status, body = mesh.json("GET", "/v1/batch/jobs?limit=2", token=admin)

    assert status == 200, body
    listed = body["executions"]
    assert [e["job_execution_id"] for e in listed] == ran[::-1]  # int64 as JSON strings
    for execution in listed:
        assert execution["status"] == "COMPLETED" and execution["parameters"] == f'{{"date":"{DAY}"}}'
        assert execution["partitions"] and all(p["status"] == "COMPLETED" for p in execution["partitions"])
        # The list shows each execution as GET /v1/batch/jobs/{id} does.
        assert mesh.json("GET", f"/v1/batch/jobs/{execution['job_execution_id']}", token=admin) == (200, execution)
    status, body = mesh.json("GET", "/v1/batch/jobs", token=admin)
    assert status == 200 and [e["job_execution_id"] for e in body["executions"][:2]] == ran[::-1]
    assert 2 <= len(body["executions"]) <= 20


def test_an_admin_sees_every_instance_of_the_topology_healthy_in_envoy(mesh):
    _, admin = mesh.create_admin()

    status, body = mesh.json("GET", "/v1/batch/instances", token=admin)

    assert status == 200, body
    hosts = {(h["cluster"], h["address"]): h for h in body["instances"]}
    assert set(hosts) == {(i.service.name, i.address) for i in mesh.instances()}
    assert all(h["healthy"] is True and h["health_flags"] == "healthy" for h in hosts.values())
    # Counters are int64 (JSON strings) and count the calls Envoy sent each host.
    batch_before = sum(int(h["requests_total"]) for h in hosts.values() if h["cluster"] == "batch")
    _, again = mesh.json("GET", "/v1/batch/instances", token=admin)
    batch_after = sum(int(h["requests_total"]) for h in again["instances"] if h["cluster"] == "batch")
    assert batch_after > batch_before


def test_a_seller_is_refused_both_lists_and_bad_limits_are_400(mesh, seller):
    _, token = seller
    for path in ("/v1/batch/jobs", "/v1/batch/instances"):
        status, body = mesh.json("GET", path, token=token)
        assert status == 403, (path, body)
        assert body["code"] == 7 and "ADMIN" in body["message"]
        status, _ = mesh.request("GET", path)
        assert status == 401
    _, admin = mesh.create_admin()
    for limit in ("101", "-1", "ten"):
        status, body = mesh.json("GET", f"/v1/batch/jobs?limit={limit}", token=admin)
        assert status == 400, (limit, body)
