"""Monthly RANGE partitions of `plays` on MySQL/MariaDB (issue #17 item 5; docs/scaling.md,
"History that grows"). SQLite has no partitions: every call here is a no-op there.

Layout (migration 0014): PARTITION BY RANGE COLUMNS(local_day), one partition per month named
`pYYYYMM` holding the days before the first day of the next month, and a catch-all `pmax`
(VALUES LESS THAN MAXVALUE) so that ingest never fails for a day no partition was made for.
Months are created ahead by splitting `pmax` (`REORGANIZE PARTITION pmax INTO (...)`): cheap
while `pmax` is empty, which `ensure_partitions` keeps true by running at the start of every
batch run and from `paysystem plays partitions`, months before the days arrive.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

import sqlalchemy as sa

DEFAULT_MONTHS_AHEAD = 3
CATCH_ALL = "pmax"
LOCK_WAIT_SEC = 5
_NAME = re.compile(r"^p(\d{4})(\d{2})$")


def partition_name(month: dt.date) -> str:
    return f"p{month.year:04d}{month.month:02d}"


def month_of_partition(name: str) -> dt.date | None:
    """The first day of the month a `pYYYYMM` partition holds; None for any other name."""
    m = _NAME.match(name)
    return dt.date(int(m.group(1)), int(m.group(2)), 1) if m else None


def next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """The first days of the months from `first`'s month to `last`'s, both included."""
    out, m = [], first.replace(day=1)
    while m <= last:
        out.append(m)
        m = next_month(m)
    return out


def partitions_to_add(existing: Iterable[str], today: dt.date, ahead: int = DEFAULT_MONTHS_AHEAD) -> list[dt.date]:
    """Months (first days, ascending) to split out of `pmax` so that this month and the
    `ahead` months after it each have a partition.

    Only months after the newest existing monthly partition can be added (a RANGE partition
    splits off the low end of `pmax`), so a gap before it is left alone; a missing month then
    lives in the partition above it, which is correct, only less tidy. With no monthly
    partition yet, the months start at today's.
    """
    if ahead < 0:
        raise ValueError("ahead must be >= 0")
    months = [m for m in (month_of_partition(n) for n in existing) if m is not None]
    last_wanted = today.replace(day=1)
    for _ in range(ahead):
        last_wanted = next_month(last_wanted)
    start = next_month(max(months)) if months else today.replace(day=1)
    return months_between(start, last_wanted) if start <= last_wanted else []


def partition_clause(month: dt.date) -> str:
    return f"PARTITION {partition_name(month)} VALUES LESS THAN ('{next_month(month).isoformat()}')"


def is_partitioned(conn: sa.Connection) -> bool:
    return conn.dialect.name in ("mysql", "mariadb")


def existing_partitions(conn: sa.Connection) -> list[str]:
    """Partition names of `plays` in this database, in order; [] on SQLite."""
    if not is_partitioned(conn):
        return []
    rows = conn.execute(
        sa.text(
            "SELECT PARTITION_NAME FROM INFORMATION_SCHEMA.PARTITIONS"
            " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'plays' AND PARTITION_NAME IS NOT NULL"
            " ORDER BY PARTITION_ORDINAL_POSITION"
        )
    )
    return [r[0] for r in rows]


def ensure_partitions(engine: sa.Engine, today: dt.date, ahead: int = DEFAULT_MONTHS_AHEAD) -> list[str]:
    """Creates the monthly partitions that `partitions_to_add` names; returns their names.

    The ALTER runs on its own connection, with no other connection of this engine open in
    this call: an open transaction that read `plays` holds a metadata lock that the ALTER
    would wait for (lock_wait_timeout), and every later statement on `plays` behind it.
    Safe to run concurrently from two processes: the loser's ALTER fails on a duplicate
    partition name, and it reads the partitions again.
    """
    if engine.dialect.name not in ("mysql", "mariadb"):
        return []
    for attempt in range(2):
        with engine.connect() as conn:
            names = existing_partitions(conn)
            if CATCH_ALL not in names:
                return []  # not partitioned (a database before 0014): nothing to split
            months = partitions_to_add(names, today, ahead)
            if not months:
                return []
            clauses = ", ".join([*map(partition_clause, months), f"PARTITION {CATCH_ALL} VALUES LESS THAN (MAXVALUE)"])
            conn.commit()  # ends the read's transaction before the DDL
            # Waiting for another connection's metadata lock would queue every statement on
            # plays behind this ALTER: give up after a few seconds instead (the next run tries again).
            conn.exec_driver_sql(f"SET SESSION lock_wait_timeout = {LOCK_WAIT_SEC}")
            try:
                conn.exec_driver_sql(f"ALTER TABLE plays REORGANIZE PARTITION {CATCH_ALL} INTO ({clauses})")
            except sa.exc.OperationalError:
                if attempt:
                    raise
                continue
            finally:
                conn.exec_driver_sql("SET SESSION lock_wait_timeout = DEFAULT")
            return [partition_name(m) for m in months]
    return []
