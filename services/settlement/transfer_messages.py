"""gRPC messages of the bank transfer files (transfers.py) on the Closing of ListClosings."""

from __future__ import annotations

from domain.periods import month_name
from paysystem.v1 import settlement_pb2
from services.common.proto_time import timestamp
from services.settlement import transfers


def add_transfer_files(message: settlement_pb2.Closing, filed: transfers.MonthClosing) -> settlement_pb2.Closing:
    """The closing `message` with its month's transfer files (part 1's figures also flat)."""
    name = month_name(filed.closing.month)
    message.transfer_files.extend(
        settlement_pb2.TransferFile(
            part=f.part,
            sha256=f.sha256,
            rows=f.rows,
            total_krw=f.total_krw,
            created_at=timestamp(f.created_at_us),
            created_by=f.created_by,
            filename=transfers.filename(name, f.part),
        )
        for f in filed.files
    )
    if filed.files:
        first = filed.files[0]
        message.transfer_file_sha256 = first.sha256
        message.transfer_rows = first.rows
        message.transfer_total_krw = first.total_krw
    message.approved_not_in_file = filed.unfiled
    return message
