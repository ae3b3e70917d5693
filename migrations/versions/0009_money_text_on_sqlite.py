"""money columns on SQLite hold exact decimal text, not REAL

SQLite's NUMERIC(24, 4) is a column of 64-bit floats (exact to ~15 significant digits;
DECIMAL(24, 4) has 24). From this revision services/common/schema.Money stores the canonical
decimal string there ("810000.0000"), in TEXT columns: daily_video_stats and
period_video_stats (video_revenue, ad_revenue) and tier_prices.unit_price. Each stored float
becomes the shortest decimal that reads back as the same float (Python's repr), rounded to 4
decimals: the amount that was written, for every amount the float could hold exactly (up to
15 significant digits); nothing can restore digits a float already lost.

On MySQL/MariaDB the columns are DECIMAL already: nothing changes there.

Revision ID: 0009
Revises: 0008
"""

from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# table: {money column: DECIMAL precision}
COLUMNS = {
    "daily_video_stats": {"video_revenue": 24, "ad_revenue": 24},
    "period_video_stats": {"video_revenue": 24, "ad_revenue": 24},
    "tier_prices": {"unit_price": 12},
}
_NEW = "{}_exact0009"


def _exact_text(value, precision):
    """The canonical text of a stored REAL, INTEGER or TEXT amount (frozen here: schema.Money
    writes the same form through domain.money.to_storage_text)."""
    if value is None:
        return None
    if isinstance(value, float):
        value = repr(value)
    amount = Decimal(value).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    if not amount.is_finite() or (amount and amount.adjusted() >= precision - 4):
        raise ValueError(f"a stored amount does not fit DECIMAL({precision}, 4): {value!r}")
    return format(amount, "f") if amount else "0.0000"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    # The conversion runs in Python on this connection only (the float's repr); services get
    # the exact money functions from services/common/db.py.
    sqlite_connection = bind.connection.driver_connection
    if sqlite_connection is None:
        raise RuntimeError("migration 0009 needs an open connection")
    sqlite_connection.create_function("paysystem_0009_exact", 2, _exact_text, deterministic=True)
    for table, columns in COLUMNS.items():
        order = [c["name"] for c in sa.inspect(bind).get_columns(table)]
        for column, precision in columns.items():
            op.add_column(table, sa.Column(_NEW.format(column), sa.Text(), nullable=True))
            op.execute(f"UPDATE {table} SET {_NEW.format(column)} = paysystem_0009_exact({column}, {precision})")
        # The copy replaces each float column by its text twin, in the column's old place.
        twins = [_NEW.format(name) if name in columns else name for name in order]
        with op.batch_alter_table(table, recreate="always", partial_reordering=[tuple(twins)]) as batch:
            for column in columns:
                batch.drop_column(column)
                batch.alter_column(_NEW.format(column), new_column_name=column, existing_type=sa.Text(), nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # Back to float columns (SQLite converts each decimal text to the nearest REAL).
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column, precision in columns.items():
                batch.alter_column(
                    column, type_=sa.Numeric(precision, 4), existing_type=sa.Text(), existing_nullable=False
                )
