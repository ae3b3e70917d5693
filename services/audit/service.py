"""Use cases: reading the audit log (admins) and verifying its chain (the operator's
`paysystem audit verify`, entrypoints/cli/audit.py). The rules: domain/audit_chain.py."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from domain.audit_chain import AuditEntry, Verdict, verify
from domain.errors import BadInput, BadRange
from domain.periods import day_bounds_us, parse_day
from services.audit import repository
from services.audit.ports import AuditFilter, AuditUnitOfWork
from services.common import paging
from services.common.auth import Principal, require_role

_TOKEN_PREFIX = "a1:"
VERIFY_BATCH = 5000  # entries read per statement while verifying
ACTION_MAX = 64

# Called with (entries checked, entries in the chain) as the verification goes on.
Progress = Callable[[int, int], None]


@dataclasses.dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    next_page_token: str


def sql_unit_of_work(engine: sa.Engine) -> AuditUnitOfWork:
    """The SQL unit of work (repository.SqlAuditUnitOfWork), for the servicer, the CLI and tests."""
    return repository.SqlAuditUnitOfWork(engine)


def audit_filter(from_text: str, to_text: str, actor_id: int, action: str, zone: ZoneInfo) -> AuditFilter:
    """The filter of a request: days `from` and `to` (YYYY-MM-DD, local days of `zone`,
    both included; empty: open), actor_id (0: any), action (empty: any)."""
    first_us = day_bounds_us(parse_day(from_text, "from"), zone)[0] if from_text else None
    last_us = day_bounds_us(parse_day(to_text, "to"), zone)[1] if to_text else None
    if first_us is not None and last_us is not None and last_us <= first_us:
        raise BadRange("must not be before from", field="to")
    if actor_id < 0:
        raise BadInput("must be an account id (0 or absent: any actor)", field="actor_id")
    if len(action) > ACTION_MAX:
        raise BadInput(f"at most {ACTION_MAX} characters", field="action")
    return AuditFilter(first_us, last_us, actor_id or None, action or None)


def list_entries(
    uow: AuditUnitOfWork, principal: Principal, where: AuditFilter, page_size: int, page_token: str
) -> AuditPage:
    """The entries matching `where`, newest first, one page (admins only)."""
    require_role(principal, "ADMIN")
    size = paging.page_size(page_size)
    before = paging.decode_page_token(_TOKEN_PREFIX, page_token) or None
    with uow:
        rows = uow.entries.newest(where, before_seq=before, limit=size + 1)
    page = rows[:size]
    token = paging.encode_page_token(_TOKEN_PREFIX, page[-1].seq) if len(rows) > size else ""
    return AuditPage(page, token)


def verify_chain(uow: AuditUnitOfWork, progress: Progress | None = None) -> Verdict:
    """Recomputes the whole chain (the operator's command: no principal, it needs database
    access). Walks the entries up to the head read first, then looks past the head read again
    at the end: an entry appended meanwhile is not mistaken for an inserted one."""
    report = progress or (lambda *_: None)
    with uow:
        head_seq, head_hash = uow.entries.head()

        def walk() -> Iterator[AuditEntry]:
            after = 0
            while True:
                batch = uow.entries.ascending(after_seq=after, limit=VERIFY_BATCH)
                batch = [entry for entry in batch if entry.seq <= head_seq]
                if not batch:
                    break
                yield from batch
                after = batch[-1].seq
                report(after, head_seq)
            latest_seq, _ = uow.entries.head()  # appends since the walk began are fine
            yield from uow.entries.ascending(after_seq=latest_seq, limit=1)

        return verify(walk(), head_seq=head_seq, head_hash=head_hash)
