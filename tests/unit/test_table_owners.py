"""Each table is written only by the package that defines it (its `tables.py`).

The import contracts keep other packages off an owner's modules except its `published` one,
but SQL names tables in text too ("INSERT INTO plays ..."). This walk finds every write in
the owners' code, in SQLAlchemy (`sa.insert(plays)`, `mysql.insert(...)`, `sa.update`,
`sa.delete`) and in SQL text (INSERT/REPLACE INTO, UPDATE, DELETE FROM, ALTER TABLE,
TRUNCATE), and checks that the table belongs to the package the code is in.
"""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa

from migrations.schema import OWNERS

ROOT = Path(__file__).resolve().parents[2]
OWNER_DIRS = {
    "services.account": ROOT / "services/account",
    "services.audit": ROOT / "services/audit",
    "services.video": ROOT / "services/video",
    "services.statistics": ROOT / "services/statistics",
    "services.settlement": ROOT / "services/settlement",
    "services.readpath": ROOT / "services/readpath",
    "batch": ROOT / "batch",
}
SQL_WRITE = re.compile(
    r"\b(?:INSERT\s+(?:IGNORE\s+)?INTO|REPLACE\s+INTO|UPDATE|DELETE\s+FROM|ALTER\s+TABLE|TRUNCATE(?:\s+TABLE)?)"
    r"\s+[`\"]?(\w+)"
)
CORE_WRITE = re.compile(r"\b(?:sa|mysql|sqlite)?\.?(?:insert|update|delete)\(\s*(\w+)\s*\)")


def _owner_of_table() -> dict[str, str]:
    owner_of: dict[str, str] = {}
    for package, module in OWNERS.items():
        for value in vars(module).values():
            if isinstance(value, sa.Table):
                owner_of[value.name] = "batch" if package.startswith("batch") else package
    return owner_of


def _writes(path: Path) -> list[tuple[int, str]]:
    found = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        found += [(number, name) for name in SQL_WRITE.findall(line)]
        found += [(number, name) for name in CORE_WRITE.findall(line)]
    return found


def test_every_table_has_one_owner():
    owner_of = _owner_of_table()
    assert {"plays", "videos", "accounts", "ledger_entries", "daily_video_stats", "job_execution"} <= set(owner_of)
    assert owner_of["plays"] == "services.video" and owner_of["daily_video_stats"] == "batch"
    assert owner_of["replica_heartbeat"] == "services.readpath"


def test_no_package_writes_another_owners_table():
    owner_of = _owner_of_table()
    foreign = []
    for package, directory in OWNER_DIRS.items():
        for path in sorted(directory.rglob("*.py")):
            for number, table in _writes(path):
                owner = owner_of.get(table)
                if owner is not None and owner != package:
                    foreign.append(f"{path.relative_to(ROOT)}:{number} writes {table} (owned by {owner})")
    assert not foreign, "\n".join(foreign)


def test_the_walk_finds_writes_in_sql_text_and_in_sqlalchemy(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        'conn.execute(sa.text("INSERT INTO plays (a) VALUES (1)"))\n'
        "conn.execute(sa.update(videos).values(title='x'))\n"
        'f"DELETE FROM {TMP} WHERE 1"\n'
        "stmt = mysql.insert(accounts)\n"
    )
    assert [name for _, name in _writes(sample)] == ["plays", "videos", "accounts"]
