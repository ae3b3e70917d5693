"""Webhooks through Envoy JSON (docs/webhooks.md): the admin API (served by the settlement
instances), who may call it, and a delivery made by the mesh's own dispatcher process (started
by the launcher) to a real receiver, signed, then sent again on request.

The mesh is shared by the whole e2e session: the endpoint made here is deleted at the end."""

from __future__ import annotations

import json

from services.common import db
from services.webhooks.published import emit
from tests.unit.test_webhook_rules import rfc2104_hmac_sha256
from tests.webhook_receiver import Receiver, wait_for

PATH = "/v1/webhooks/endpoints"
SECRET = "whsec_e2e_0123456789abcdef"


def test_admins_register_endpoints_and_the_mesh_delivers_signed_events(mesh):
    _, admin = mesh.create_admin()
    _, seller = mesh.sign_up_and_login("SELLER")
    receiver = Receiver().start()
    engine = db.make_engine(mesh.settings)
    try:
        good = {"url": receiver.url, "events": ["payout.paid"], "secret": SECRET}
        # Only admins: a seller is refused everything (403), nothing stored.
        assert mesh.json("POST", PATH, good, token=seller)[0] == 403
        assert mesh.json("GET", PATH, token=seller)[0] == 403
        assert mesh.json("POST", "/v1/webhooks/deliveries/1:redeliver", token=seller)[0] == 403
        status, before = mesh.json("GET", PATH, token=admin)
        assert status == 200
        # Bad input: 400 naming the field, nothing stored.
        for bad, field in [
            ({**good, "url": "ftp://x/"}, "url"),
            ({**good, "events": ["payout.lost"]}, "events"),
            ({**good, "secret": "short"}, "secret"),
        ]:
            status, body = mesh.json("POST", PATH, bad, token=admin)
            assert status == 400 and field in body["message"], body
        assert mesh.json("GET", PATH, token=admin)[1] == before

        status, endpoint = mesh.json("POST", PATH, good, token=admin)
        assert status == 200, endpoint
        assert endpoint["url"] == receiver.url and endpoint["events"] == ["payout.paid"]
        assert "secret" not in endpoint
        status, listed = mesh.json("GET", PATH, token=admin)
        assert endpoint in listed["endpoints"] and SECRET not in json.dumps(listed)
        endpoint_id = endpoint["endpoint_id"]

        # An event committed in the database: the launcher's dispatcher process sends it.
        with engine.begin() as conn:
            event_id = emit(conn, "payout.paid", {"payout_id": "1", "status": "PAID"})
        wait_for(lambda: len(receiver.received) == 1, timeout=30, what="the mesh's dispatcher")
        [request] = receiver.received
        assert json.loads(request.body)["id"] == f"evt_{event_id}"
        t, v1 = (part.split("=", 1)[1] for part in request.headers["PaySystem-Signature"].split(","))
        assert v1 == rfc2104_hmac_sha256(SECRET.encode(), t.encode() + b"." + request.body)

        log_path = f"{PATH}/{endpoint_id}/deliveries"
        wait_for(
            lambda: mesh.json("GET", log_path, token=admin)[1]["deliveries"][0]["status"] == "DELIVERED",
            what="the delivery's record",
        )
        [delivery] = mesh.json("GET", log_path, token=admin)[1]["deliveries"]
        assert (delivery["event_id"], delivery["event_type"], delivery["last_status_code"]) == (
            f"evt_{event_id}",
            "payout.paid",
            200,
        )
        status, again = mesh.json("POST", f"/v1/webhooks/deliveries/{delivery['delivery_id']}:redeliver", token=admin)
        assert status == 200 and again["status"] == "PENDING"
        wait_for(lambda: len(receiver.received) == 2, timeout=30, what="the redelivery")
        assert receiver.received[1].body == request.body

        assert mesh.json("DELETE", f"{PATH}/{endpoint_id}", token=admin)[0] == 200
        assert mesh.json("DELETE", f"{PATH}/{endpoint_id}", token=admin)[0] == 404
        assert mesh.json("GET", log_path, token=admin)[0] == 404
        assert endpoint not in mesh.json("GET", PATH, token=admin)[1].get("endpoints", [])
    finally:
        receiver.stop()
        engine.dispose()
