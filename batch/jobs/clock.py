"""Wall-clock instants and the name of this process, as the job repository records them."""

from __future__ import annotations

import os
import socket
import time


def now_us() -> int:
    return time.time_ns() // 1000


def process_owner() -> str:
    """host:pid; `recover` reads it back to tell whether the owner is gone."""
    return f"{socket.gethostname()}:{os.getpid()}"
