"""docs/schema.md: the tables as a Mermaid erDiagram, from the SQLAlchemy metadata.

The schema declares no foreign keys (see the page's text for why), so the references between
tables are listed here. Every `*_id` column that is not its own table's key must be a declared
foreign key or in REFERENCES: a new column that refers to nothing known fails the generation
instead of drawing a diagram without its relation.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from migrations.schema import OWNERS, metadata

# "table.column": "table.column it refers to". resume_positions.event_id names the play that
# set the position.
REFERENCES = {
    "videos.seller_id": "accounts.account_id",
    "plays.video_id": "videos.video_id",
    "plays.viewer_id": "accounts.account_id",
    "resume_positions.viewer_id": "accounts.account_id",
    "resume_positions.video_id": "videos.video_id",
    "resume_positions.event_id": "plays.event_id",
    "daily_video_stats.video_id": "videos.video_id",
    "daily_video_stats.seller_id": "accounts.account_id",
    "daily_video_stats.job_execution_id": "job_execution.job_execution_id",
    "period_video_stats.video_id": "videos.video_id",
    "period_video_stats.seller_id": "accounts.account_id",
    "video_daily_retention.video_id": "videos.video_id",
    "computed_days.job_execution_id": "job_execution.job_execution_id",
    "job_partition.job_instance_id": "job_instance.job_instance_id",
    "job_execution.job_instance_id": "job_instance.job_instance_id",
    "job_execution.running_instance_id": "job_instance.job_instance_id",
    "partition_execution.job_execution_id": "job_execution.job_execution_id",
    "month_closings.closed_by": "accounts.account_id",
    "closed_lines.video_id": "videos.video_id",
    "closed_lines.seller_id": "accounts.account_id",
    "closed_lines.month": "month_closings.month",
    "frozen_daily_stats.video_id": "videos.video_id",
    "frozen_daily_stats.seller_id": "accounts.account_id",
    "frozen_daily_stats.day": "frozen_days.day",
    "ledger_entries.seller_id": "accounts.account_id",
    "ledger_entries.video_id": "videos.video_id",
    "ledger_entries.payout_id": "payouts.payout_id",
    "ledger_entries.posted_month": "month_closings.month",
    "payouts.seller_id": "accounts.account_id",
    "payouts.month": "month_closings.month",
    "audit_log.actor_id": "accounts.account_id",  # 0: the operator's local command
    "payout_profiles.seller_id": "accounts.account_id",
    "tax_invoices.seller_id": "accounts.account_id",
    "tax_invoices.payout_id": "payouts.payout_id",
    "tax_invoices.month": "month_closings.month",
    "webhook_endpoints.created_by": "accounts.account_id",
    "webhook_deliveries.endpoint_id": "webhook_endpoints.endpoint_id",
    "webhook_deliveries.event_id": "webhook_events.event_id",
}
# Client-chosen keys, not references.
NOT_REFERENCES = {"plays.event_id", "audit_log.request_id"}

HEADER = """# Database schema

Generated from the SQLAlchemy metadata (every owner's `tables.py`, gathered by
`migrations/schema.py`) by `python -m tools.gendocs`; do not edit by hand. Each table is
defined, and written, by one package: its owner ("Owners" below); others read it through the
owner's `published.py`. Types are MySQL/MariaDB's (the system of
record); instants are UTC epoch microseconds (`*_us`), money is DECIMAL (on the embedded
SQLite, TEXT holding the exact decimal: `services/common/sqltypes.Money`).

The schema declares no foreign keys. The references below are real (every id is written by
the service that checked it exists) but not enforced by the database, on purpose: `plays` is
an append-only log written at tens of thousands of rows a second, where a foreign-key check
per row costs an index lookup in `videos` and `accounts`; the batch's output tables are
rewritten wholesale per day; and the schema stays within what sharded MySQL-compatible engines
support (DESIGN.md section 5), where a seller's and a video's rows may live on different
shards. The diagram draws them from the generator's list (`tools/schema_diagram.py`), which
fails on any new `*_id` column it does not know.
"""


def _type(column: sa.Column) -> tuple[str, str]:
    """(Mermaid type token, the full type): a token may not hold a comma, as DECIMAL(24, 4) does."""
    full = column.type.compile(dialect=mysql.dialect()).split(" CHARACTER SET")[0].replace("NUMERIC", "DECIMAL")
    return (full.split("(")[0] if "," in full else full), full.replace(", ", ",")


def references(meta: sa.MetaData = metadata) -> list[tuple[str, str, bool]]:
    """(child "table.column", parent "table.column", nullable) for every relation."""
    found = []
    for table in meta.sorted_tables:
        own_keys = {c.name for c in table.primary_key.columns}
        for column in table.columns:
            name = f"{table.name}.{column.name}"
            declared = [f"{fk.column.table.name}.{fk.column.name}" for fk in column.foreign_keys]
            if declared:
                found += [(name, parent, column.nullable) for parent in declared]
            elif name in REFERENCES:
                found.append((name, REFERENCES[name], column.nullable))
            elif column.name.endswith("_id") and column.name not in own_keys and name not in NOT_REFERENCES:
                raise ValueError(f"{name}: add what it refers to in tools/schema_diagram.py REFERENCES")
    tables = {t.name: t for t in meta.sorted_tables}
    for child, parent, _ in found:
        table, column = parent.split(".")
        if table not in tables or column not in tables[table].columns:
            raise ValueError(f"{child} refers to {parent}, which does not exist")
    return found


def render(meta: sa.MetaData = metadata) -> str:
    relations = references(meta)
    refs = {child for child, _, _ in relations}
    lines = [HEADER, "```mermaid", "erDiagram"]
    for table in sorted(meta.sorted_tables, key=lambda t: t.name):
        unique = {c.name for c in table.columns if c.unique}
        unique |= {
            c.name
            for con in table.constraints
            if isinstance(con, sa.UniqueConstraint) and len(con.columns) == 1
            for c in con.columns
        }
        lines.append(f"    {table.name} {{")
        for column in table.columns:
            flags = (
                ("PK", column.primary_key),
                ("FK", f"{table.name}.{column.name}" in refs),
                ("UK", column.name in unique),
            )
            keys = ", ".join(k for k, on in flags if on)
            token, full = _type(column)
            note = ("" if token == full else f"{full}, ") + ("null" if column.nullable else "not null")
            lines.append(" ".join(filter(None, [f"        {token}", column.name, keys, f'"{note}"'])))
        lines.append("    }")
    for child, parent, nullable in sorted(relations):
        child_table, column = child.split(".")
        parent_table = parent.split(".")[0]
        one = "|o" if nullable else "||"
        lines.append(f"    {parent_table} {one}--o{{ {child_table} : {column}")
    lines.append("```")
    lines += ["", "## Owners", "", "| owner (writes it) | defined in | tables |", "| --- | --- | --- |"]
    for owner, module in OWNERS.items():
        names = sorted(v.name for v in vars(module).values() if isinstance(v, sa.Table))
        path = module.__name__.replace(".", "/") + ".py"
        lines.append(f"| `{owner}` | `{path}` | {', '.join(f'`{n}`' for n in names)} |")
    lines += ["", "## Keys", "", "| table | primary key | unique | indexes |", "| --- | --- | --- | --- |"]
    for table in sorted(meta.sorted_tables, key=lambda t: t.name):
        pk = ", ".join(c.name for c in table.primary_key.columns)
        # A column's unique=True is a UniqueConstraint too, or an index when it also has index=True.
        uniques = {
            "(" + ", ".join(c.name for c in con.columns) + ")"
            for con in table.constraints
            if isinstance(con, sa.UniqueConstraint)
        } | {f"({c.name})" for c in table.columns if c.unique}
        indexes = sorted(
            "(" + ", ".join(c.name for c in ix.columns) + ")" + (" unique" if ix.unique else "") for ix in table.indexes
        )
        lines.append(f"| `{table.name}` | {pk} | {', '.join(sorted(uniques)) or '—'} | {', '.join(indexes) or '—'} |")
    return "\n".join(lines) + "\n"
