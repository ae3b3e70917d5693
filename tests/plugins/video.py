"""In-process video service for tests: a real gRPC server on a real database, and tokens."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import sqlalchemy as sa

from entrypoints.servers import video as video_main
from paysystem.v1 import video_pb2_grpc
from services.account.tables import accounts
from services.common import auth, db
from services.common.server import Server, ServiceContext
from services.common.settings import Settings
from tests.databases import fresh_database

DB_PREFIX = "paysystem_ingest_"
_ports = itertools.count(19000)


@dataclasses.dataclass
class VideoHarness:
    ctx: ServiceContext
    stub: video_pb2_grpc.VideoServiceStub
    channel: grpc.Channel
    private_key: bytes

    @property
    def engine(self) -> sa.Engine:
        return self.ctx.engine

    def account(self, role: str = "VIEWER") -> auth.Principal:
        """A new account row (no password: tests sign in by minting a token)."""
        username = f"{role.lower()}-{uuid.uuid4().hex[:12]}"
        with self.engine.begin() as conn:
            result = conn.execute(
                sa.insert(accounts).values(username=username, password_hash="!", role=role, created_at_us=0)
            )
        return auth.Principal(int(result.inserted_primary_key[0]), username, role)

    def token(self, principal: auth.Principal) -> str:
        return auth.issue_token(self.private_key, principal, issuer=self.ctx.settings.jwt_issuer, ttl_sec=600)

    def md(self, principal: auth.Principal) -> tuple[tuple[str, str]]:
        return (("authorization", f"Bearer {self.token(principal)}"),)


@contextlib.contextmanager
def video_service(
    backend: str, tmp: Path, *, exact_strategy: str | None = None, **settings_overrides
) -> Iterator[VideoHarness]:
    """exact_strategy: how the ingest learns which rows it stored (services.video.repository):
    None for the server's own way; SELECT_THEN_INSERT runs MySQL 8's way on MariaDB."""
    with fresh_database(backend, DB_PREFIX, tmp) as url:
        settings = Settings(data_dir=tmp, db_url=url, **settings_overrides)
        auth.ensure_keys(settings.keys_dir)
        ctx = ServiceContext(settings=settings, engine=db.make_engine(settings), instance="video-test")
        server = None
        for _ in range(50):
            try:
                server = Server("video", video_main.build(ctx, exact_strategy=exact_strategy), ctx, next(_ports))
                break
            except SystemExit:  # port taken by another run: take the next one
                continue
        assert server is not None, "no free port in 19000-19999"
        server.grpc_server.start()
        channel = grpc.insecure_channel(server.address, options=[("grpc.max_receive_message_length", 64 << 20)])
        try:
            yield VideoHarness(
                ctx, video_pb2_grpc.VideoServiceStub(channel), channel, auth.load_private_key(settings.keys_dir)
            )
        finally:
            channel.close()
            server.grpc_server.stop(0).wait()
            ctx.engine.dispose()
