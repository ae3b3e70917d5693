"""The MySQL circuit breaker: MariaDB made unreachable (a TCP proxy in front of it is cut),
statements fail fast with UNAVAILABLE, and the service recovers by itself once it is back."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import threading
import time
import uuid

import grpc
import pytest
import sqlalchemy as sa

from paysystem.v1 import common_pb2, settlement_pb2
from services.common import db
from services.common.settings import Settings
from services.readpath.readside import read_engine
from tests.databases import fresh_database
from tests.plugins.readside import Daily, add_videos, make_read_side, publish_day, serve_read_services

PROXY_PORT = 20306
SELLER, VIDEO = 4001, 8001


class TcpProxy:
    """127.0.0.1:port -> 127.0.0.1:3306; `cut()` closes the listener and every connection."""

    def __init__(self, port: int, target: tuple[str, int] = ("127.0.0.1", 3306)) -> None:
        self.port, self.target = port, target
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
            self._listener.close()
            self._listener = None
        with self._lock:
            for s in self._conns:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass
            self._conns.clear()


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("breaker")
    with fresh_database("mariadb", "paysystem_stats_", tmp) as url:
        direct = db.make_engine(Settings(db_url=url))
        with direct.begin() as conn:
            add_videos(conn, SELLER, [VIDEO])
        publish_day(direct, dt.date(2026, 10, 1), [Daily(VIDEO, views=2, video_revenue="2.0")])
        proxy = TcpProxy(PROXY_PORT)
        proxy.start()
        proxied_url = sa.make_url(url).set(port=PROXY_PORT).render_as_string(hide_password=False)
        engine = read_engine(Settings(db_url=proxied_url))  # the engine the services read with
        read = make_read_side(engine, "", f"breaker{uuid.uuid4().hex[:6]}", reset_timeout=1.0)
        with serve_read_services(proxied_url, tmp, 20104, read) as svc:
            yield svc, proxy
        proxy.cut()
        engine.dispose()
        direct.dispose()


def _statement(svc):
    request = settlement_pb2.GetStatementRequest(seller_id=SELLER, period=common_pb2.DAILY, date="2026-10-01")
    return svc.settlement.GetStatement(request, metadata=svc.token(SELLER), timeout=10)


def test_mysql_down_gives_unavailable_then_fails_fast_and_recovers_by_itself(proxied):
    svc, proxy = proxied
    assert _statement(svc).total == "2.0"
    proxy.cut()
    codes = []
    for _ in range(5):
        with pytest.raises(grpc.RpcError) as err:
            _statement(svc)
        codes.append(err.value.code())
    assert set(codes) == {grpc.StatusCode.UNAVAILABLE}
    assert svc.read.db.state == "open"
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as err:
        _statement(svc)
    assert err.value.code() is grpc.StatusCode.UNAVAILABLE
    assert "circuit open" in err.value.details()
    assert time.monotonic() - started < 0.5
    proxy.start()
    time.sleep(1.1)  # the breaker's reset timeout
    assert _statement(svc).total == "2.0"
    assert svc.read.db.state == "closed"
