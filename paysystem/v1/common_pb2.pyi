from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class Period(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PERIOD_UNSPECIFIED: _ClassVar[Period]
    DAILY: _ClassVar[Period]
    WEEKLY: _ClassVar[Period]
    MONTHLY: _ClassVar[Period]

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROLE_UNSPECIFIED: _ClassVar[Role]
    VIEWER: _ClassVar[Role]
    SELLER: _ClassVar[Role]
    ADMIN: _ClassVar[Role]
    INGEST: _ClassVar[Role]
PERIOD_UNSPECIFIED: Period
DAILY: Period
WEEKLY: Period
MONTHLY: Period
ROLE_UNSPECIFIED: Role
VIEWER: Role
SELLER: Role
ADMIN: Role
INGEST: Role
