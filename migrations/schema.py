"""Every owner's tables on the one metadata: importing the owners' tables modules registers
them (services/common/tables.py says who owns what). The migrations' environment compares
against it and tools/schema_diagram.py draws it."""

from __future__ import annotations

from batch import tables as batch_tables
from batch.jobs import tables as job_tables
from services.account import tables as account_tables
from services.audit import tables as audit_tables
from services.common.tables import metadata
from services.readpath import tables as readpath_tables
from services.settlement import tables as settlement_tables
from services.video import tables as video_tables

# Which package owns (writes) each table, by the module that defines it.
OWNERS = {
    module.__name__.removesuffix(".tables"): module
    for module in (
        account_tables,
        audit_tables,
        video_tables,
        settlement_tables,
        batch_tables,
        job_tables,
        readpath_tables,
    )
}

__all__ = ["OWNERS", "metadata"]
