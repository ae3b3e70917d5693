"""The webhook dispatcher (services/webhooks/dispatcher.py) against a real HTTP receiver
(tests/webhook_receiver.py), on MariaDB and SQLite: signed deliveries checked by an
independent HMAC and by the receivers' snippet of docs/webhooks.md, every event delivered in
order per endpoint after the receiver was down, nothing for a change that rolled back or whose
process was killed before its commit, sent again when a dispatcher died after sending, manual
redelivery, two dispatchers sending each delivery once, redirects not followed, a delivery
given up after its window, and the registry's paging and refusals. The retry schedule runs in milliseconds (DispatchConfig)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy as sa

from domain.errors import BadPageRequest, BadWebhookEndpoint, RoleNotAllowed
from services.common import db
from services.common.auth import Principal
from services.common.clock import FixedClock
from services.common.settings import Settings
from services.settlement import balances, repository
from services.settlement.tables import ledger_entries, payouts
from services.webhooks import registry, sender
from services.webhooks import repository as webhook_sql
from services.webhooks.dispatcher import DispatchConfig, Dispatcher
from services.webhooks.published import emit
from services.webhooks.tables import webhook_deliveries, webhook_endpoints, webhook_events
from tests.databases import fresh_engine
from tests.unit.test_webhook_rules import rfc2104_hmac_sha256
from tests.unit.test_webhooks_snippet import documented_verify
from tests.webhook_receiver import Receiver, wait_for

ADMIN = Principal(1, "admin", "ADMIN")
SECRET = "whsec_test_0123456789"
FAST = {"poll_ms": 5, "timeout_sec": 2.0, "backoff_base_ms": 20, "backoff_cap_ms": 160}


@pytest.fixture(scope="module", params=["mariadb", "sqlite"])
def engine(request, tmp_path_factory):
    with fresh_engine(request.param, "paysystem_webhooks_", tmp_path_factory.mktemp("webhooks")) as engine:
        yield engine


@pytest.fixture(autouse=True)
def empty(engine):
    with engine.begin() as conn:
        for table in (webhook_deliveries, webhook_events, webhook_endpoints, ledger_entries, payouts):
            conn.execute(sa.delete(table))


@contextlib.contextmanager
def dispatching(engine: sa.Engine, count: int = 1, **config):
    """`count` dispatchers, each on an engine of its own (as separate processes would be)."""
    url = engine.url.render_as_string(hide_password=False)
    engines = [db.make_engine(Settings(db_url=url)) for _ in range(count)]
    dispatchers = [Dispatcher(e, DispatchConfig(**{**FAST, **config})) for e in engines]
    stop = threading.Event()
    threads = [threading.Thread(target=d.run, args=(stop,), daemon=True) for d in dispatchers]
    for thread in threads:
        thread.start()
    try:
        yield dispatchers
    finally:
        stop.set()
        for thread, dispatcher, own in zip(threads, dispatchers, engines, strict=True):
            thread.join(10)
            dispatcher.close()
            own.dispose()


def emit_events(engine: sa.Engine, count: int, event_type: str = "month.closed") -> list[int]:
    ids = []
    for n in range(count):
        with engine.begin() as conn:
            ids.append(emit(conn, event_type, {"n": n}))
    return ids


def ids_received(receiver: Receiver) -> list[str]:
    return [json.loads(body)["id"] for body in receiver.bodies()]


def log_of(engine: sa.Engine, endpoint_id: int) -> list:
    """The endpoint's deliveries, oldest first."""
    return registry.list_deliveries(engine, ADMIN, endpoint_id, 0, "").deliveries[::-1]


def delivery_statuses(engine: sa.Engine) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        d = webhook_deliveries.c
        return [tuple(r) for r in conn.execute(sa.select(d.event_id, d.status).order_by(d.event_id))]


def test_an_event_reaches_its_endpoint_signed_and_logged(engine):
    receiver = Receiver().start()
    try:
        endpoint = registry.create_endpoint(engine, ADMIN, receiver.url, ["month.closed"], SECRET)
        with engine.begin() as conn:
            event_id = emit(conn, "month.closed", {"month": "2012-01", "total": "1.5"}, now_us=1_767_225_600_000_000)
            emit(conn, "payout.paid", {"payout_id": "1"})  # not subscribed: not sent
        with dispatching(engine):
            wait_for(lambda: delivery_statuses(engine) == [(event_id, "DELIVERED")], what="the delivery")
    finally:
        receiver.stop()
    [request] = receiver.received
    assert json.loads(request.body) == {
        "id": f"evt_{event_id}",
        "type": "month.closed",
        "created": 1_767_225_600,
        "data": {"month": "2012-01", "total": "1.5"},
    }
    assert request.headers["Content-Type"] == "application/json"
    header = request.headers["PaySystem-Signature"]
    t, v1 = (part.split("=", 1)[1] for part in header.split(","))
    assert abs(int(t) - time.time()) < 30
    assert v1 == rfc2104_hmac_sha256(SECRET.encode(), t.encode() + b"." + request.body)
    verify = documented_verify()
    assert verify(SECRET, header, request.body)
    assert not verify(SECRET, header, request.body, now=int(t) + 301)  # replayed after 5 minutes
    [delivery] = registry.list_deliveries(engine, ADMIN, endpoint.endpoint_id, 0, "").deliveries
    assert (delivery.attempts, delivery.last_status_code, delivery.event_type) == (1, 200, "month.closed")


def test_a_receiver_down_for_a_while_gets_every_event_in_order_without_holding_back_others(engine):
    down, up = Receiver(), Receiver().start()
    try:
        slow = registry.create_endpoint(engine, ADMIN, down.url, ["month.closed", "payout.paid"], SECRET)
        registry.create_endpoint(engine, ADMIN, up.url, ["month.closed", "payout.paid"], SECRET)
        ids = emit_events(engine, 3) + emit_events(engine, 3, "payout.paid")
        with dispatching(engine):
            wait_for(lambda: len(up.received) == 6, what="the endpoint that is up")

            def failed_twice():
                log = log_of(engine, slow.endpoint_id)
                return len(log) == 6 and log[0].attempts >= 2

            wait_for(failed_twice, what="two failed attempts at the receiver that is down")
            assert down.received == []
            # Only the oldest delivery was tried while the receiver was down: order per endpoint.
            assert [d.attempts for d in log_of(engine, slow.endpoint_id)][1:] == [0] * 5
            down.start()
            wait_for(lambda: len(down.received) >= 6, what="the receiver back up")
    finally:
        down.stop()
        up.stop()
    expected = [f"evt_{i}" for i in ids]
    assert ids_received(up) == expected
    assert ids_received(down) == expected
    first = log_of(engine, slow.endpoint_id)[0]
    assert first.status.value == "DELIVERED" and first.attempts >= 3 and first.last_status_code == 200


def add_payout(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.insert(payouts).values(
                payout_id=1,
                seller_id=7,
                month=dt.date(2012, 1, 1),
                amount_krw=12_000,
                status="APPROVED",  # maker-checker: only an approved payout is marked
                created_at_us=1,
                updated_at_us=1,
            )
        )


# A process that marks payout 1 FAILED and is killed (SIGKILL) after the mark's writes and its
# event, just before the commit.
KILL_SCRIPT = """
import os, signal, sys
from services.common import db
from services.common.auth import Principal
from services.common.settings import Settings
from services.settlement import balances, repository

class KilledAtCommit(repository.SqlUnitOfWork):
    def commit(self):
        os.kill(os.getpid(), signal.SIGKILL)

engine = db.make_engine(Settings(db_url=sys.argv[1]))
balances.mark_payout(KilledAtCommit(engine), Principal(1, "admin", "ADMIN"), 1, "FAILED", "")
"""


def test_a_process_killed_between_the_change_and_its_commit_leaves_no_event(engine):
    add_payout(engine)
    url = engine.url.render_as_string(hide_password=False)
    done = subprocess.run([sys.executable, "-c", KILL_SCRIPT, url], check=False, timeout=120, env=os.environ.copy())
    assert done.returncode == -signal.SIGKILL
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(webhook_events)).scalar() == 0
        assert conn.execute(sa.select(payouts.c.status)).scalar() == "APPROVED"
        assert conn.execute(sa.select(sa.func.count()).select_from(ledger_entries)).scalar() == 0


def test_the_registry_validates_pages_and_admits_admins_only(engine):
    with pytest.raises(RoleNotAllowed):
        registry.create_endpoint(engine, Principal(7, "s", "SELLER"), "https://example.com/", ["payout.paid"], SECRET)
    with pytest.raises(BadWebhookEndpoint, match="^secret: "):
        registry.create_endpoint(engine, ADMIN, "https://example.com/", ["payout.paid"], "short")
    assert registry.list_endpoints(engine, ADMIN) == []  # nothing stored
    endpoint = registry.create_endpoint(engine, ADMIN, "https://example.com/", ["month.closed"], SECRET)
    ids = emit_events(engine, 3)
    with engine.begin() as conn:
        webhook_sql.fan_out(conn, 1, 10)
    first = registry.list_deliveries(engine, ADMIN, endpoint.endpoint_id, 2, "")
    assert [d.event_id for d in first.deliveries] == [ids[2], ids[1]] and first.next_page_token
    second = registry.list_deliveries(engine, ADMIN, endpoint.endpoint_id, 2, first.next_page_token)
    assert [d.event_id for d in second.deliveries] == [ids[0]] and second.next_page_token == ""
    with pytest.raises(BadPageRequest):
        registry.list_deliveries(engine, ADMIN, endpoint.endpoint_id, 2, "not-a-token")
    with pytest.raises(RoleNotAllowed):
        registry.list_deliveries(engine, Principal(7, "s", "SELLER"), endpoint.endpoint_id, 2, "")


def test_a_change_that_rolls_back_sends_nothing(engine):
    class KilledBeforeCommit(repository.SqlUnitOfWork):
        def commit(self) -> None:
            raise RuntimeError("killed between the change and its commit")

    add_payout(engine)
    receiver = Receiver().start()
    try:
        registry.create_endpoint(engine, ADMIN, receiver.url, ["payout.paid", "payout.failed"], SECRET)
        with pytest.raises(RuntimeError, match="killed"):
            balances.mark_payout(KilledBeforeCommit(engine), ADMIN, 1, "FAILED", "", clock=FixedClock(5))
        with dispatching(engine):
            time.sleep(0.2)  # rounds pass: nothing to send
            assert receiver.received == []
            balances.mark_payout(repository.SqlUnitOfWork(engine), ADMIN, 1, "PAID", "BANK-1", clock=FixedClock(9))
            wait_for(lambda: len(receiver.received) == 1, what="the committed mark's event")
            time.sleep(0.1)
    finally:
        receiver.stop()
    [body] = [json.loads(b) for b in receiver.bodies()]
    assert body["type"] == "payout.paid"
    assert body["data"]["reference"] == "BANK-1" and body["data"]["payout_id"] == "1"
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(webhook_events)).scalar() == 1


def test_a_delivery_sent_again_on_request_carries_the_same_event(engine):
    receiver = Receiver().start()
    try:
        endpoint = registry.create_endpoint(engine, ADMIN, receiver.url, ["month.closed"], SECRET)
        [event_id] = emit_events(engine, 1)
        with dispatching(engine):
            wait_for(lambda: delivery_statuses(engine) == [(event_id, "DELIVERED")], what="the first delivery")
            [delivery] = log_of(engine, endpoint.endpoint_id)
            again = registry.redeliver(engine, ADMIN, delivery.delivery_id)
            assert again.status.value == "PENDING"
            wait_for(lambda: len(receiver.received) == 2, what="the redelivery")
            wait_for(lambda: delivery_statuses(engine) == [(event_id, "DELIVERED")], what="the second record")
    finally:
        receiver.stop()
    assert ids_received(receiver) == [f"evt_{event_id}"] * 2
    [delivery] = registry.list_deliveries(engine, ADMIN, endpoint.endpoint_id, 0, "").deliveries
    assert delivery.attempts == 2


def test_two_dispatchers_send_each_delivery_once(engine):
    receivers = [Receiver().start() for _ in range(3)]
    try:
        for receiver in receivers:
            registry.create_endpoint(engine, ADMIN, receiver.url, ["month.closed"], SECRET)
        ids = emit_events(engine, 12)
        with dispatching(engine, count=2):
            wait_for(lambda: all(len(r.received) >= 12 for r in receivers), what="every delivery")
            wait_for(lambda: {s for _, s in delivery_statuses(engine)} == {"DELIVERED"}, what="the records")
            time.sleep(0.1)
    finally:
        for receiver in receivers:
            receiver.stop()
    for receiver in receivers:
        assert ids_received(receiver) == [f"evt_{i}" for i in ids]


def test_a_redirect_is_not_followed_and_the_delivery_is_given_up_after_its_window(engine):
    elsewhere = Receiver().start()
    receiver = Receiver().start()
    receiver.status, receiver.location = 302, elsewhere.url
    try:
        endpoint = registry.create_endpoint(engine, ADMIN, receiver.url, ["month.closed"], SECRET)
        emit_events(engine, 1)
        with dispatching(engine, give_up_after_ms=150):
            wait_for(lambda: [s for _, s in delivery_statuses(engine)] == ["FAILED"], what="giving up")
    finally:
        receiver.stop()
        elsewhere.stop()
    assert elsewhere.received == []
    [delivery] = registry.list_deliveries(engine, ADMIN, endpoint.endpoint_id, 0, "").deliveries
    assert delivery.last_status_code == 302 and delivery.attempts >= 2
    # 20, 40, 80 ms waits fit in 150 ms after the first attempt; the 4th failure's 160 would not.
    assert delivery.attempts <= 4


def test_a_delivery_whose_dispatcher_died_between_the_send_and_its_record_is_sent_again(engine):
    receiver = Receiver().start()
    deaths = []

    def send_then_die(url, body, headers, timeout_sec):
        outcome = sender.post(url, body, headers, timeout_sec)
        if not deaths:  # the first request arrives, then its dispatcher is gone before recording it
            deaths.append(outcome)
            raise SystemError("dispatcher died after sending")
        return outcome

    try:
        registry.create_endpoint(engine, ADMIN, receiver.url, ["month.closed"], SECRET)
        [event_id] = emit_events(engine, 1)
        config = DispatchConfig(**{**FAST, "lease_sec": 0.3})
        dispatcher = Dispatcher(engine, config, post=send_then_die)
        try:
            with pytest.raises(SystemError):
                dispatcher.run_once()
            assert len(receiver.received) == 1
            assert delivery_statuses(engine) == [(event_id, "PENDING")]
            assert dispatcher.run_once() == 0  # still leased by the dead attempt: not sent twice at once
            time.sleep(0.35)  # the lease runs out
            assert dispatcher.run_once() == 1
        finally:
            dispatcher.close()
    finally:
        receiver.stop()
    # At least once: the event came twice, with the same id, and is now recorded as delivered.
    assert ids_received(receiver) == [f"evt_{event_id}"] * 2
    assert delivery_statuses(engine) == [(event_id, "DELIVERED")]
