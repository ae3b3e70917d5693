"""Entry point: `python -m entrypoints.servers.webhooks_dispatcher --instance webhooks-dispatcher-1`.

The webhook dispatcher (services/webhooks/dispatcher.py, docs/webhooks.md): started and
restarted by the launcher (topology.WORKERS) and by compose. It serves no calls, so it has no
gRPC health: the supervisor restarts it when it exits, and a database outage is logged and
retried in the loop. SIGTERM ends the current round and stops it.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from services.common import db
from services.common.logs import configure_logging
from services.common.settings import Settings, get_settings
from services.webhooks.dispatcher import DispatchConfig, Dispatcher

log = logging.getLogger(__name__)


def config_of(settings: Settings) -> DispatchConfig:
    return DispatchConfig(
        poll_ms=settings.webhook_poll_ms,
        timeout_sec=settings.webhook_timeout_sec,
        backoff_base_ms=settings.webhook_backoff_base_ms,
        backoff_cap_ms=settings.webhook_backoff_cap_ms,
        give_up_after_ms=int(settings.webhook_give_up_after_sec * 1000),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="PaySystem webhook dispatcher")
    parser.add_argument("--instance", default="webhooks-dispatcher-1")
    args = parser.parse_args()
    settings = get_settings()
    configure_logging("webhooks-dispatcher", args.instance, level=settings.log_level, fmt=settings.log_format)
    engine = db.make_engine(settings, **({} if settings.database_url.startswith("sqlite") else {"pool_size": 5}))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: stop.set())
    dispatcher = Dispatcher(engine, config_of(settings))
    log.info("dispatching webhooks")
    try:
        dispatcher.run(stop)
    finally:
        dispatcher.close()
        engine.dispose()
        log.info("stopped")


if __name__ == "__main__":
    main()
