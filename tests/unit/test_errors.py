"""The mapping from exceptions to the status a client sees."""

import grpc
import pybreaker
import sqlalchemy.exc

from services.common import errors


def test_domain_errors_keep_their_code_and_name_the_field():
    code, message = errors.status_of(errors.InvalidArgument("must be positive", field="duration_sec"))
    assert code is grpc.StatusCode.INVALID_ARGUMENT
    assert message == "duration_sec: must be positive"
    assert errors.status_of(errors.NotFound("no video 9"))[0] is grpc.StatusCode.NOT_FOUND
    assert errors.status_of(errors.PermissionDenied("x"))[0] is grpc.StatusCode.PERMISSION_DENIED


def test_an_open_circuit_and_a_lost_database_are_unavailable():
    assert errors.status_of(pybreaker.CircuitBreakerError("open"))[0] is grpc.StatusCode.UNAVAILABLE
    lost = sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("gone away"))
    assert errors.status_of(lost)[0] is grpc.StatusCode.UNAVAILABLE


def test_anything_else_is_internal_without_leaking_details():
    code, message = errors.status_of(KeyError("secret-column"))
    assert code is grpc.StatusCode.INTERNAL
    assert "secret" not in message
