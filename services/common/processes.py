"""Process helpers shared by the launcher, the services' start-up and the batch's crash recovery."""

from __future__ import annotations

import os
from pathlib import Path


def pid_alive(pid: int) -> bool:
    """True if a process with this pid exists on this host (even one we may not signal)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def pin_to_cpu(cpu: int) -> None:
    """Runs every thread of this process, and every thread it starts later, on one CPU.

    The affinity is per thread (a new thread inherits its creator's), so the threads that
    already exist are pinned one by one.
    """
    tasks = Path("/proc/self/task")
    threads = [int(tid) for tid in os.listdir(tasks)] if tasks.is_dir() else [0]
    for tid in threads:
        try:
            os.sched_setaffinity(tid, {cpu})
        except ProcessLookupError:  # a thread that ended meanwhile
            continue
