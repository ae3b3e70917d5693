"""Domain errors: what went wrong, in the domain's words, with no transport in sight.

Use cases raise these; the adapter in grpc_errors.py maps each category to a gRPC status code
(and Envoy maps that to an HTTP code). A category says how the caller should react (fix the
input, authenticate, ask someone else, wait); a subclass says what happened, for the code
and the logs. The message is what the client reads, prefixed by the field it concerns.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every domain error; raise a category or one of its subclasses, not this."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


# --- categories: the caller's reaction ---------------------------------------------------


class BadInput(DomainError):
    """The request itself is wrong; the same request will always fail."""


class NotFound(DomainError):
    """What the request names does not exist."""


class Conflict(DomainError):
    """The request clashes with the current state (a taken name, a job already running)."""


class NotAuthenticated(DomainError):
    """The caller did not prove who they are."""


class NotAllowed(DomainError):
    """The caller is known but may not do this."""


class NotReady(DomainError):
    """The request is valid but the data it needs does not exist yet (e.g. a day not
    computed by the batch); the same request may succeed later."""


class Unavailable(DomainError):
    """Something the request needs (not the database: that one is mapped from SQLAlchemy's
    own errors) does not answer; the same request may succeed later."""


class TooManyRequests(DomainError):
    """A rate or concurrency limit was hit; the same request may succeed after
    `retry_after_sec` (if given), which reaches the client as `retry-after`."""

    def __init__(self, message: str, *, retry_after_sec: int | None = None, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after_sec = retry_after_sec


# --- what happened -----------------------------------------------------------------------


class BadId(BadInput):
    """An id that cannot name anything (zero or negative)."""


def require_positive_id(value: int, field: str) -> int:
    """`value`, or BadId when it cannot name anything: every id of the API is positive."""
    if value <= 0:
        raise BadId(f"must be a positive id, got {value}", field=field)
    return value


class BadDate(BadInput):
    """A date that is missing, not written YYYY-MM-DD, or not a real calendar day."""


class BadPeriod(BadInput):
    """A period name other than DAILY, WEEKLY or MONTHLY."""


class BadRange(BadInput):
    """A [from, to] range that ends before it starts or spans too many periods."""


class BadComparison(BadInput):
    """A `compare` other than PREVIOUS or YEAR_AGO, or an earlier range outside the calendar."""


class BadMetric(BadInput):
    """A ranking metric other than the ones the statistics know."""


class BadAccountDetails(BadInput):
    """A username, password or role that sign-up refuses."""


class BadVideoDetails(BadInput):
    """A video title or duration that is refused."""


class BadRoleChange(BadInput):
    """A role change to a role that does not exist."""


class BadPageRequest(BadInput):
    """A page size out of range, or a page token that no response gave out."""


class TooManyEvents(BadInput):
    """More playbacks in one call than a call may carry."""


class MalformedRequest(BadInput):
    """A request message that does not parse (bytes that are not the method's protobuf)."""


class BadText(BadInput):
    """A free text (a title, a payment reference) holding characters that would make what a
    reader sees differ from what is stored: control, bidirectional or invisible characters."""


class VideoNotFound(NotFound):
    pass


class SellerNotFound(NotFound):
    """A seller id that names no seller: no account with that id whose role is SELLER, and no
    video of that id's (a seller demoted since keeps the figures of its videos)."""


class EnvoyAdminUnavailable(Unavailable):
    """Envoy's admin endpoint (PAYSYSTEM_ENVOY_ADMIN_URL) did not answer."""


class ExecutionNotFound(NotFound):
    """A job or partition execution id that the job repository does not hold."""


class AccountExists(Conflict):
    pass


class BadCredentials(NotAuthenticated):
    """A wrong username or password at log-in."""


class BadToken(NotAuthenticated):
    """A bearer token that is missing, expired or not one of ours."""


class AccountNotActive(NotAuthenticated):
    """A validly signed token whose account is disabled or does not exist (any more)."""


class AccountRoleChanged(NotAuthenticated):
    """A validly signed token whose role is no longer its account's role: the token is out of
    date (log in again), rather than the caller not allowed."""


class AccountNotFound(NotFound):
    pass


class LastAdmin(Conflict):
    """A role change that would leave no active ADMIN account."""


class OwnRoleChange(NotAllowed):
    """An admin changing their own role through the API."""


class RoleNotAllowed(NotAllowed):
    """The caller's role may not call this use case at all."""


class NotOwner(NotAllowed):
    """The caller may call this use case, but not on another account's data."""


class MonthNotReady(NotReady):
    """A month that cannot be closed yet: it has not ended, or days of it are not computed
    or are stale (the message names them)."""


class MonthOutOfOrder(Conflict):
    """A close of a month that is not the one after the last closed month."""


class PayoutNotFound(NotFound):
    pass


class ClosingNotFound(NotFound):
    """A month that has not been closed."""


class PayoutMarkConflict(Conflict):
    """A mark that contradicts the payout's recorded outcome (another status or reference)."""


class PayoutNotApproved(Conflict):
    """A mark of a payout that is not APPROVED yet (maker-checker, DESIGN 2b)."""


class SelfApproval(NotAllowed):
    """An admin approving the payouts of a month they closed themselves."""


class IdempotencyKeyReused(Conflict):
    """An Idempotency-Key sent again with another request (method or body), or while the
    first request with it is still running."""


class BadIdempotencyKey(BadInput):
    """An Idempotency-Key header that is empty, too long or not printable ASCII."""


class BadPayoutMark(BadInput):
    """A mark with no usable status, or PAID without a reference."""


class BadTierTable(BadInput):
    """A tier table that is malformed or scheduled for a day it may not start on; the batch
    (domain/counted_views.py) raises it too for the table in force on a day that cannot price every
    count (missing, empty, not starting at 0)."""


class BadPayoutProfile(BadInput):
    """A payout profile field that is missing or malformed (the message names the field)."""


class PayoutProfileNotFound(NotFound):
    """A seller who has not set a payout profile yet."""


class BadTaxTable(BadInput):
    """A tax table that is malformed or scheduled for a day it may not start on."""


class BadWebhookEndpoint(BadInput):
    """A webhook endpoint with an unusable URL, an unknown or missing event, or a secret of
    the wrong length."""


class WebhookEndpointNotFound(NotFound):
    """An endpoint id that names no registered (and not deleted) endpoint."""


class WebhookDeliveryNotFound(NotFound):
    pass


class TransferFileNotReady(NotReady):
    """A bank transfer file asked for before its month is closed and approved, or a next part
    while every approved payout of the month is in a file already."""


class TransferFileNotFound(NotFound):
    """A part of a month's bank transfer file beyond the next one."""
