"""Use cases: a statement and a ledger as CSV files (docs/ledger.md)."""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from services.common.auth import Principal
from services.common.readside import ReadSide

CONTENT_TYPE = "text/csv; charset=utf-8"


@dataclasses.dataclass(frozen=True)
class CsvFile:
    filename: str
    data: bytes


def statement_csv(read: ReadSide, principal: Principal, seller_id: int, period: str, date: str) -> CsvFile:
    raise NotImplementedError


def ledger_csv(engine: sa.Engine, principal: Principal, seller_id: int, from_text: str, to_text: str) -> CsvFile:
    raise NotImplementedError
