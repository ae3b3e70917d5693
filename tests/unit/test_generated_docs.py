"""The generated documents (docs/openapi.json, docs/api.md, docs/schema.md) are fresh, and
their generators follow the protos and the metadata instead of a list kept by hand."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from google.api import annotations_pb2

from tools import gendocs, openapi, schema_diagram


@pytest.fixture(scope="module")
def fresh() -> dict:
    return gendocs.generate()


@pytest.fixture(scope="module")
def document(fresh) -> dict:
    return json.loads(fresh[gendocs.OPENAPI_PATH])


def test_every_committed_document_equals_a_fresh_generation(fresh):
    stale = [path.name for path, text in fresh.items() if not path.exists() or path.read_text() != text]
    assert not stale, f"stale {stale}: run python -m tools.gendocs"


def test_every_annotated_method_is_one_operation_with_its_verb_and_path(document):
    expected = set()
    for file in openapi.load_descriptor_set().file:
        for service in file.service:
            for method in service.method:
                rule = method.options.Extensions[annotations_pb2.http]
                if verb := rule.WhichOneof("pattern"):
                    expected.add((verb, getattr(rule, verb), f"{service.name}.{method.name}"))
    documented = {
        (verb, path, op["operationId"]) for path, item in document["paths"].items() for verb, op in item.items()
    }
    assert documented - expected == {("get", "/openapi.json", "OpenAPI.Get")}
    assert expected <= documented


def test_path_fields_are_path_parameters_and_the_rest_of_a_get_request_is_the_query(document):
    top = document["paths"]["/v1/sellers/{seller_id}/top-videos"]["get"]
    assert [(p["name"], p["in"]) for p in top["parameters"]] == [
        ("seller_id", "path"),
        ("period", "query"),
        ("date", "query"),
        ("metric", "query"),
    ]
    by_name = {p["name"]: p["schema"] for p in top["parameters"]}
    assert by_name["seller_id"]["type"] == "string"  # int64 as a JSON string
    assert by_name["date"]["format"] == "date"  # the field's comment says YYYY-MM-DD
    period = document["components"]["schemas"]["Period"]
    assert period["enum"] == ["PERIOD_UNSPECIFIED", "DAILY", "WEEKLY", "MONTHLY"]


def test_responses_list_every_printed_field_as_required_with_proto_names(document):
    statement = document["components"]["schemas"]["Statement"]
    assert "payable_krw" in statement["properties"] and "payableKrw" not in statement["properties"]
    assert statement["properties"]["payable_krw"]["type"] == "string"
    assert set(statement["required"]) == set(statement["properties"]) - {"closed_at"}  # a message: absent when OPEN
    video = document["components"]["schemas"]["Video"]
    assert "created_at" not in video["required"]  # an unset message field is not printed
    assert statement["additionalProperties"] is False


def test_roles_come_from_the_proto_comments(document):
    ops = {op["operationId"]: op for item in document["paths"].values() for op in item.values()}
    assert ops["AccountService.SignUp"]["security"] == []
    assert ops["BatchService.RunJob"]["x-roles"] == ["ADMIN"]
    assert ops["VideoService.RecordPlays"]["x-roles"] == ["VIEWER", "INGEST"]
    assert ops["SettlementService.GetStatement"]["x-roles"] == ["SELLER", "ADMIN"]
    assert ops["VideoService.GetVideo"]["x-roles"] == ["VIEWER", "SELLER", "ADMIN", "INGEST"]
    assert "403" in ops["SettlementService.GetStatement"]["responses"]
    assert "403" not in ops["VideoService.GetVideo"]["responses"]
    assert "401" not in ops["AccountService.SignUp"]["responses"]


def test_a_method_whose_comment_names_no_caller_is_refused():
    with pytest.raises(ValueError, match="who may call"):
        openapi.who_may_call("Returns the thing.", "Things.")
    assert openapi.who_may_call("", "Both methods are open to anyone.") is None
    assert openapi.who_may_call("Admins and the video's owner.", "") == ["SELLER", "ADMIN"]


def test_the_server_stream_is_documented_as_newline_delimited_events(document):
    run = document["paths"]["/v1/batch/jobs"]["post"]
    assert run["x-stream"] == "newline-delimited JSON"
    assert run["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/JobEvent"}
    assert "final" in run["responses"]["200"]["description"]


def test_the_diagram_draws_every_table_and_the_references_of_its_id_columns(fresh):
    text = fresh[gendocs.DOCS / "schema.md"]
    for table in schema_diagram.metadata.sorted_tables:
        assert f"    {table.name} {{" in text
    assert "    videos ||--o{ plays : video_id" in text
    assert "    job_instance |o--o{ job_execution : running_instance_id" in text  # nullable
    assert "BIGINT video_id PK, FK" in text  # daily_video_stats: key and reference


def test_a_new_id_column_without_a_known_reference_fails_the_diagram():
    meta = sa.MetaData()
    sa.Table("accounts", meta, sa.Column("account_id", sa.BigInteger, primary_key=True))
    sa.Table(
        "notes", meta, sa.Column("note_id", sa.BigInteger, primary_key=True), sa.Column("author_id", sa.BigInteger)
    )
    with pytest.raises(ValueError, match="notes.author_id"):
        schema_diagram.render(meta)


def test_a_declared_foreign_key_is_drawn_without_a_list_entry():
    meta = sa.MetaData()
    sa.Table("accounts", meta, sa.Column("account_id", sa.BigInteger, primary_key=True))
    sa.Table(
        "notes",
        meta,
        sa.Column("note_id", sa.BigInteger, primary_key=True),
        sa.Column("author_id", sa.BigInteger, sa.ForeignKey("accounts.account_id"), nullable=False),
    )
    assert "    accounts ||--o{ notes : author_id" in schema_diagram.render(meta)
