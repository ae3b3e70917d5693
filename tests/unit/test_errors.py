"""The mapping from exceptions to the status a client sees."""

import grpc
import pybreaker
import pytest
import sqlalchemy.exc

from domain import errors
from services.common.grpc_errors import status_of


def test_domain_errors_keep_their_code_and_name_the_field():
    code, message = status_of(errors.BadVideoDetails("must be positive", field="duration_sec"))
    assert code is grpc.StatusCode.INVALID_ARGUMENT
    assert message == "duration_sec: must be positive"


@pytest.mark.parametrize(
    "error, code",
    [
        (errors.BadDate, grpc.StatusCode.INVALID_ARGUMENT),
        (errors.TooManyEvents, grpc.StatusCode.INVALID_ARGUMENT),
        (errors.VideoNotFound, grpc.StatusCode.NOT_FOUND),
        (errors.ExecutionNotFound, grpc.StatusCode.NOT_FOUND),
        (errors.AccountExists, grpc.StatusCode.ALREADY_EXISTS),
        (errors.BadCredentials, grpc.StatusCode.UNAUTHENTICATED),
        (errors.BadToken, grpc.StatusCode.UNAUTHENTICATED),
        (errors.RoleNotAllowed, grpc.StatusCode.PERMISSION_DENIED),
        (errors.NotOwner, grpc.StatusCode.PERMISSION_DENIED),
        (errors.NotReady, grpc.StatusCode.FAILED_PRECONDITION),
        (errors.EnvoyAdminUnavailable, grpc.StatusCode.UNAVAILABLE),
    ],
)
def test_each_meaning_reaches_the_client_as_the_status_of_its_category(error, code):
    assert status_of(error("x")) == (code, "x")


def test_an_open_circuit_and_a_lost_database_are_unavailable():
    assert status_of(pybreaker.CircuitBreakerError("open"))[0] is grpc.StatusCode.UNAVAILABLE
    lost = sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("gone away"))
    assert status_of(lost)[0] is grpc.StatusCode.UNAVAILABLE


def test_anything_else_is_internal_without_leaking_details():
    code, message = status_of(KeyError("secret-column"))
    assert code is grpc.StatusCode.INTERNAL
    assert "secret" not in message
    assert status_of(errors.DomainError("uncategorized"))[0] is grpc.StatusCode.INTERNAL
