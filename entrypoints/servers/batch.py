"""Entry point: `python -m entrypoints.servers.batch --port N --instance batch-1`. The runner's
wiring it hands the servicer (runner_for) lives in batch/wiring.py, shared with the CLI."""

from __future__ import annotations

from batch.servicer import BatchServicer
from batch.wiring import runner_for, show_last_successes
from paysystem.v1 import batch_pb2, batch_pb2_grpc
from services.account import published as published_accounts
from services.common import db
from services.common.server import Registration, ServiceContext, run_service
from services.readpath.replicas import HeartbeatWriter


def build(ctx: ServiceContext) -> list[Registration]:
    # On SQLite the batch's transactions take the write lock first (db.write_lock_at_begin),
    # also those of partitions that other instances dispatch here.
    db.write_lock_at_begin(ctx.engine)
    show_last_successes(ctx.engine)
    if ctx.settings.read_urls:
        # Every batch instance beats: replicas' lag is measured from it (replicas.py).
        HeartbeatWriter(ctx.engine).start()
    servicer = BatchServicer(ctx, runner_for=runner_for)
    name = batch_pb2.DESCRIPTOR.services_by_name["BatchService"].full_name
    return [(batch_pb2_grpc.add_BatchServiceServicer_to_server, servicer, name)]


def main() -> None:
    run_service("batch", build, account_lookups=published_accounts.role_lookups)


if __name__ == "__main__":
    main()
