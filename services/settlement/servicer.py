"""gRPC adapter: SettlementService messages <-> the statement, ledger, CSV and tier use cases."""

from __future__ import annotations

import sqlalchemy as sa
from google.api import httpbody_pb2

from domain.money import ZERO, to_api_string
from domain.periods import month_name
from paysystem.v1 import common_pb2, settlement_pb2, settlement_pb2_grpc
from services.common.auth import current_principal
from services.common.proto_time import timestamp
from services.readpath.readside import ReadSide, enum_name
from services.settlement import approvals, balances, csv_export, profiles, service, taxes, tiers, transfers
from services.settlement import closing as closing_use_case
from services.settlement.idempotency import idempotent
from services.settlement.ports import UnitOfWork
from services.settlement.tax_messages import invoice_message, profile_message, tax_table_message
from services.settlement.transfer_messages import add_transfer_files
from services.settlement.transfer_ports import TransferUnitOfWork
from services.settlement.transfers_repository import SqlTransferUnitOfWork


def statement_message(statement: service.Statement) -> settlement_pb2.Statement:
    message = settlement_pb2.Statement(
        seller_id=statement.seller_id,
        period=statement.period.value,
        period_start=statement.period_start.isoformat(),
        period_end=statement.period_end.isoformat(),
        video_revenue=to_api_string(statement.video_revenue),
        ad_revenue=to_api_string(statement.ad_revenue),
        total=to_api_string(statement.total),
        payable_krw=statement.payable_krw,
        data_through=statement.data_through.isoformat() if statement.data_through else "",
        currency=statement.currency,
        status=statement.status.value,
        adjustments=[
            settlement_pb2.AdjustmentLine(
                original_month=month_name(a.original_month),
                video_id=a.video_id,
                title=a.title,
                amount=to_api_string(a.amount),
            )
            for a in statement.adjustments
        ],
    )
    if statement.closed_at_us is not None:
        message.closed_at.CopyFrom(timestamp(statement.closed_at_us))
    # lines.add builds each line in place (a list of messages would be copied in again;
    # docs/statistics_settlement.md, "Statement misses render faster").
    add_line = message.lines.add
    for line in statement.lines:
        add_line(
            video_id=line.video_id,
            title=line.title,
            views=line.views,
            ad_views=line.ad_views,
            video_revenue=to_api_string(line.video_revenue),
            ad_revenue=to_api_string(line.ad_revenue),
            amount=to_api_string(line.amount),
        )
    return message


def closing_message(closing: closing_use_case.Closing) -> settlement_pb2.Closing:
    message = settlement_pb2.Closing(
        month=month_name(closing.month),
        closed_at=timestamp(closing.closed_at_us),
        sellers=closing.sellers,
        lines=closing.lines,
        earnings=to_api_string(closing.earnings),
        adjustment_lines=closing.adjustment_lines,
        adjustments=to_api_string(closing.adjustments),
        total=to_api_string(closing.total),
        payouts_created=closing.payouts_created,
        payouts_krw=closing.payouts_krw,
        currency=service.CURRENCY,
        closed_by=closing.closed_by,
        approved_by=closing.approved_by or 0,
    )
    if closing.approved_at_us is not None:
        message.approved_at.CopyFrom(timestamp(closing.approved_at_us))
    return message


def entry_message(entry: balances.Entry) -> settlement_pb2.LedgerEntry:
    return settlement_pb2.LedgerEntry(
        entry_id=entry.entry_id,
        kind=entry.kind.value,
        posted_month=month_name(entry.posted_month),
        original_month=month_name(entry.original_month) if entry.original_month else "",
        video_id=entry.video_id or 0,
        payout_id=entry.payout_id or 0,
        amount=to_api_string(entry.amount),
        posted_at=timestamp(entry.posted_at_us),
        title=entry.title,
    )


def payout_message(payout: balances.Payout) -> settlement_pb2.Payout:
    b = payout.breakdown
    return settlement_pb2.Payout(
        payout_id=payout.payout_id,
        seller_id=payout.seller_id,
        month=month_name(payout.month),
        amount_krw=payout.amount_krw,
        status=payout.status.value,
        reference=payout.reference or "",
        created_at=timestamp(payout.created_at_us),
        updated_at=timestamp(payout.updated_at_us),
        gross_krw=payout.amount_krw,
        # The breakdown's fields stay absent (not 0) until the payout has one.
        tax_type=payout.tax_type.value if payout.tax_type else "TAX_TYPE_UNSPECIFIED",
        income_tax_krw=b.income_tax_krw if b else None,
        local_income_tax_krw=b.local_income_tax_krw if b else None,
        vat_krw=b.vat_krw if b else None,
        net_krw=b.net_krw if b else None,
    )


def tier_table_message(table: tiers.TierTable) -> settlement_pb2.TierTable:
    return settlement_pb2.TierTable(
        effective_from=table.effective_from.isoformat(),
        video=[settlement_pb2.Tier(lower_bound=lower, unit_price=to_api_string(price)) for lower, price in table.video],
        ad=[settlement_pb2.Tier(lower_bound=lower, unit_price=to_api_string(price)) for lower, price in table.ad],
    )


def csv_body(context, export: csv_export.CsvFile) -> httpbody_pb2.HttpBody:
    """A CSV file as google.api.HttpBody; Envoy sends the metadata as HTTP headers."""
    context.send_initial_metadata((("content-disposition", f'attachment; filename="{export.filename}"'),))
    return httpbody_pb2.HttpBody(content_type=csv_export.CONTENT_TYPE, data=export.data)


def _tiers(request) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    return [(t.lower_bound, t.unit_price) for t in request.video], [(t.lower_bound, t.unit_price) for t in request.ad]


class SettlementServicer(settlement_pb2_grpc.SettlementServiceServicer):
    def __init__(self, read: ReadSide, engine: sa.Engine) -> None:
        # Reads of figures go through the read side (cache, breaker); the ledger's writes use
        # the ordinary transactional engine. The ledger's reads (balance, entries, payouts)
        # stay on the primary, so a payout just marked reads back marked, but on the read
        # side's primary engine: autocommit, one round trip per query instead of three (each
        # is one SELECT, or the balance's sum beside the minimum payout, which does not need
        # the sum's snapshot).
        self._read = read
        self._engine = engine
        self._ledger_reads = read.engine

    def _ledger_read(self) -> UnitOfWork:
        """A new unit of work on the read side's primary engine: one per call."""
        return balances.sql_unit_of_work(self._ledger_reads)

    def _ledger_write(self) -> UnitOfWork:
        """A new unit of work on the transactional engine: one per call."""
        return balances.sql_unit_of_work(self._engine)

    def GetStatement(self, request, context):
        # The serialized message, as cached: returned as it is (handlers.accept_serialized).
        # A cache hit costs no query and no recomputation at all.
        planned = service.plan_statement(
            self._read,
            current_principal(),
            request.seller_id,
            enum_name(common_pb2.Period, request.period),
            request.date,
        )
        return self._read.cached(
            planned, "stmt", lambda: _render(service.get_statement(self._read, planned)), name="statement"
        )

    @idempotent(settlement_pb2.Closing)
    def CloseMonth(self, request, context):
        return closing_message(
            closing_use_case.close_month(
                self._ledger_write(),
                current_principal(),
                request.month,
                zone=self._read.zone,
                clock=self._read.clock,
            )
        )

    def _transfers(self) -> TransferUnitOfWork:
        """A new unit of work of the transfer files on the transactional engine: one per call."""
        return SqlTransferUnitOfWork(self._engine)

    def ListClosings(self, request, context):
        closings = transfers.list_closings(self._transfers(), current_principal())
        return settlement_pb2.ListClosingsResponse(
            closings=[add_transfer_files(closing_message(c.closing), c) for c in closings]
        )

    def ListMonthPayouts(self, request, context):
        page = transfers.list_month_payouts(
            self._transfers(),
            current_principal(),
            request.month,
            enum_name(settlement_pb2.PayoutStatus, request.status),
            request.page_size,
            request.page_token,
        )
        return settlement_pb2.ListPayoutsResponse(
            payouts=[payout_message(p) for p in page.payouts], next_page_token=page.next_page_token
        )

    def GetTransferFileCsv(self, request, context):
        _, export = transfers.transfer_file(
            self._transfers(), current_principal(), request.month, request.part, clock=self._read.clock
        )
        return csv_body(context, export)

    def GetPendingAdjustments(self, request, context):
        pending = closing_use_case.pending_adjustments(self._ledger_write(), current_principal(), request.month)
        return settlement_pb2.PendingAdjustments(
            month=request.month,
            adjustments=[
                settlement_pb2.PendingAdjustment(
                    seller_id=p.seller_id,
                    video_id=p.video_id,
                    in_ledger=to_api_string(p.in_ledger),
                    computed=to_api_string(p.computed),
                    difference=to_api_string(p.difference),
                )
                for p in pending
            ],
            total=to_api_string(sum((p.difference for p in pending), ZERO)),
        )

    def GetBalance(self, request, context):
        balance = balances.get_balance(self._ledger_read(), current_principal(), request.seller_id, self._read.today())
        return settlement_pb2.Balance(
            seller_id=balance.seller_id,
            balance=to_api_string(balance.balance),
            payable_krw=balance.payable_krw,
            minimum_payout_krw=balance.minimum_payout_krw,
            currency=service.CURRENCY,
        )

    def ListLedgerEntries(self, request, context):
        page = balances.list_ledger(
            self._ledger_read(),
            current_principal(),
            request.seller_id,
            getattr(request, "from"),
            request.to,
            request.page_size,
            request.page_token,
        )
        return settlement_pb2.LedgerPage(
            entries=[entry_message(e) for e in page.entries],
            next_page_token=page.next_page_token,
            currency=service.CURRENCY,
        )

    def ListPayouts(self, request, context):
        payouts = balances.list_payouts(self._ledger_read(), current_principal(), request.seller_id)
        return settlement_pb2.ListPayoutsResponse(payouts=[payout_message(p) for p in payouts])

    @idempotent(settlement_pb2.Payout)
    def MarkPayout(self, request, context):
        status = enum_name(settlement_pb2.PayoutStatus, request.status)
        payout = balances.mark_payout(
            self._ledger_write(),
            current_principal(),
            request.payout_id,
            status,
            request.reference,
            clock=self._read.clock,
        )
        return payout_message(payout)

    @idempotent(settlement_pb2.Closing)
    def ApproveMonth(self, request, context):
        closing = approvals.approve_month(
            self._ledger_write(), current_principal(), request.month, clock=self._read.clock
        )
        return closing_message(closing)

    def ListPayoutEntries(self, request, context):
        paid = approvals.payout_entries(self._ledger_read(), current_principal(), request.payout_id)
        return settlement_pb2.PayoutEntries(
            payout=payout_message(paid.payout),
            entries=[entry_message(e) for e in paid.entries],
            total=to_api_string(paid.total),
            carried_in=to_api_string(paid.carried_in),
            carried_out=to_api_string(paid.carried_out),
            currency=service.CURRENCY,
        )

    def GetPayoutEntriesCsv(self, request, context):
        paid = approvals.payout_entries(self._ledger_read(), current_principal(), request.payout_id)
        return csv_body(context, csv_export.payout_entries_csv(paid))

    def GetStatementCsv(self, request, context):
        export = csv_export.statement_csv(
            self._read,
            current_principal(),
            request.seller_id,
            enum_name(common_pb2.Period, request.period),
            request.date,
        )
        return csv_body(context, export)

    def GetLedgerCsv(self, request, context):
        export = csv_export.ledger_csv(
            self._ledger_reads, current_principal(), request.seller_id, getattr(request, "from"), request.to
        )
        return csv_body(context, export)

    def ListTierTables(self, request, context):
        tables = tiers.list_tier_tables(tiers.sql_unit_of_work(self._engine), current_principal())
        return settlement_pb2.ListTierTablesResponse(tables=[tier_table_message(t) for t in tables])

    @idempotent(settlement_pb2.TierTable)
    def ScheduleTierTable(self, request, context):
        video, ad = _tiers(request)
        table = tiers.schedule_tier_table(
            tiers.sql_unit_of_work(self._engine),
            current_principal(),
            request.effective_from,
            video,
            ad,
            today=self._read.today(),
            clock=self._read.clock,
        )
        return tier_table_message(table)

    def GetPayoutProfile(self, request, context):
        profile = profiles.get_profile(self._ledger_write(), current_principal(), request.seller_id)
        return profile_message(profile)

    @idempotent(settlement_pb2.PayoutProfile)
    def PutPayoutProfile(self, request, context):
        saved = profiles.put_profile(
            self._ledger_write(),
            current_principal(),
            request.seller_id,
            request.legal_name,
            enum_name(settlement_pb2.TaxType, request.tax_type),
            request.bank_code,
            request.account_number,
            request.business_number,
            clock=self._read.clock,
        )
        return profile_message(saved.profile, [payout_message(p) for p in saved.released])

    def ListTaxTables(self, request, context):
        tables = taxes.list_tax_tables(self._ledger_write(), current_principal())
        return settlement_pb2.ListTaxTablesResponse(tables=[tax_table_message(t) for t in tables])

    @idempotent(settlement_pb2.TaxTable)
    def ScheduleTaxTable(self, request, context):
        wanted = taxes.TaxTableRequest(
            effective_from=request.effective_from,
            income_tax_rate=request.income_tax_rate,
            local_income_tax_rate=request.local_income_tax_rate,
            vat_rate=request.vat_rate,
            withholding_minimum_krw=request.withholding_minimum_krw,
            income_tax_unit_krw=request.income_tax_unit_krw,
            local_income_tax_unit_krw=request.local_income_tax_unit_krw,
            vat_unit_krw=request.vat_unit_krw,
            platform_business_number=request.platform_business_number,
        )
        table = taxes.schedule_tax_table(self._ledger_write(), current_principal(), wanted, today=self._read.today())
        return tax_table_message(table)

    def GetPayout(self, request, context):
        return payout_message(balances.get_payout(self._ledger_read(), current_principal(), request.payout_id))

    def GetTaxSummaryCsv(self, request, context):
        export = csv_export.tax_summary_csv(self._ledger_reads, current_principal(), request.seller_id, request.year)
        return csv_body(context, export)

    def ListTaxInvoices(self, request, context):
        invoices = taxes.list_tax_invoices(self._ledger_write(), current_principal(), request.month)
        return settlement_pb2.ListTaxInvoicesResponse(invoices=[invoice_message(i) for i in invoices])


def _render(statement: service.Statement) -> bytes:
    return statement_message(statement).SerializeToString()
