"""event ids compared byte by byte: a NO PAD binary collation on MariaDB and MySQL

utf8mb4_bin is a PAD SPACE collation on MariaDB and MySQL: 'a' and 'a ' are equal to the
unique key of plays.event_id, and ORDER BY / < sort 'a' after 'a\\t' (trailing spaces are
ignored), unlike byte order. DESIGN.md: event_id is compared byte by byte. The NO PAD binary
collations compare the UTF-8 bytes (code points) with no padding: utf8mb4_nopad_bin on MariaDB,
utf8mb4_0900_bin on MySQL 8. SQLite's BINARY collation already does; nothing changes there.

The ALTER rebuilds the indexes holding event_id (uq_plays_event_id, ix_plays_day_scan): on a
large plays table, run it in a maintenance window. No stored id can collide under the new
collation (NO PAD distinguishes more strings than PAD SPACE, never fewer).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COLUMNS = (("plays", "event_id"), ("resume_positions", "event_id"))


def _alter(collation: str) -> None:
    for table, column in COLUMNS:
        op.execute(
            f"ALTER TABLE {table} MODIFY {column} VARCHAR(128) CHARACTER SET utf8mb4 COLLATE {collation} NOT NULL"
        )


def no_pad_binary_collation(dialect) -> str:
    return "utf8mb4_nopad_bin" if getattr(dialect, "is_mariadb", False) else "utf8mb4_0900_bin"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name in ("mysql", "mariadb"):
        _alter(no_pad_binary_collation(bind.dialect))


def downgrade() -> None:
    # Fails (duplicate key) if ids differing only by trailing spaces were stored meanwhile.
    bind = op.get_bind()
    if bind.dialect.name in ("mysql", "mariadb"):
        _alter("utf8mb4_bin")
