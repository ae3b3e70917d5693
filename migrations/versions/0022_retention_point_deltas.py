"""audience retention stored as point:delta pairs: video_daily_retention.points -> point_deltas

0021 stored a day's retention as its 100 counts joined by commas; writing them meant a
100-column pivot per video that made the daily step 4-8x slower (docs/batch-jobs.md, "Audience
retention in the daily step"). The batch now writes the counts' non-zero changes from point to
point, `k:delta` pairs joined by commas in any order (domain/retention.py). Existing rows are
converted in place (the same figures); the downgrade converts them back. The conversion is
written out here, not imported, so that this revision keeps meaning what it meant.

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

POINTS = 100
_table = sa.table(
    "video_daily_retention",
    sa.column("video_id", sa.BigInteger),
    sa.column("day", sa.Date),
    sa.column("points", sa.String),
    sa.column("point_deltas", sa.Text),
)


def _deltas(points: str) -> str:
    counts = [int(c) for c in points.split(",")]
    changes = [(k, c - (counts[k - 1] if k else 0)) for k, c in enumerate(counts)]
    return ",".join(f"{k}:{d}" for k, d in changes if d)


def _points(deltas: str) -> str:
    steps = [0] * POINTS
    for pair in filter(None, deltas.split(",")):
        k, _, d = pair.partition(":")
        steps[int(k)] += int(d)
    counts, running = [], 0
    for step in steps:
        running += step
        counts.append(str(running))
    return ",".join(counts)


def _convert(source: str, target: str, convert) -> None:
    conn = op.get_bind()
    t = _table.c
    for row in conn.execute(sa.select(t.video_id, t.day, t[source])).all():
        conn.execute(
            sa.update(_table).where(t.video_id == row.video_id, t.day == row.day).values({target: convert(row[2])})
        )


def upgrade() -> None:
    with op.batch_alter_table("video_daily_retention") as batch_op:
        batch_op.add_column(sa.Column("point_deltas", sa.Text(), nullable=True))
    _convert("points", "point_deltas", _deltas)
    with op.batch_alter_table("video_daily_retention") as batch_op:
        batch_op.drop_column("points")
        batch_op.alter_column("point_deltas", existing_type=sa.Text(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("video_daily_retention") as batch_op:
        batch_op.add_column(sa.Column("points", sa.String(2100), nullable=True))
    _convert("point_deltas", "points", _points)
    with op.batch_alter_table("video_daily_retention") as batch_op:
        batch_op.drop_column("point_deltas")
        batch_op.alter_column("points", existing_type=sa.String(2100), nullable=False)
