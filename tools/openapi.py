"""The OpenAPI 3 document of the JSON API, built from the protos' descriptor set.

No maintained generator fits (PyPI has only the option bindings of grpc-gateway's Swagger 2
generator; gnostic's protoc-gen-openapi is a Go binary), so this reads what Envoy's
transcoder reads: the FileDescriptorSet with the `google.api.http` options and source info.
The JSON shapes follow the transcoder's configuration in envoy/envoy.yaml.j2: proto field
names (preserve_proto_field_names), every primitive field printed (so response schemas list
them as required), enums as names, int64 as strings, server streams one object per line.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from google.api import annotations_pb2
from google.protobuf import descriptor_pb2

from services.common import protogen
from tools.openapi_errors import ERROR_SCHEMA, error_components, error_responses

PACKAGE = "paysystem.v1"
F = descriptor_pb2.FieldDescriptorProto
INT64_TYPES = {F.TYPE_INT64, F.TYPE_UINT64, F.TYPE_SINT64, F.TYPE_FIXED64, F.TYPE_SFIXED64}
INT32_TYPES = {F.TYPE_INT32, F.TYPE_SINT32, F.TYPE_SFIXED32}
UINT32_TYPES = {F.TYPE_UINT32, F.TYPE_FIXED32}
ALL_ROLES = ["VIEWER", "SELLER", "ADMIN", "INGEST"]
# Words of the proto comments that name who may call a method (see who_may_call).
ROLE_WORDS = {"viewer": "VIEWER", "seller": "SELLER", "owner": "SELLER", "admin": "ADMIN", "ingest": "INGEST"}

SCALARS = {
    F.TYPE_STRING: {"type": "string"},
    F.TYPE_BOOL: {"type": "boolean"},
    **dict.fromkeys((F.TYPE_DOUBLE, F.TYPE_FLOAT), {"type": "number"}),
    F.TYPE_BYTES: {"type": "string", "format": "byte"},
}
WELL_KNOWN = {
    ".google.protobuf.Timestamp": {"type": "string", "format": "date-time", "description": "RFC 3339, UTC"},
}


def load_descriptor_set() -> descriptor_pb2.FileDescriptorSet:
    with tempfile.TemporaryDirectory() as tmp:
        path = protogen.build_descriptor_set(Path(tmp) / "api.pb")
        return descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes())


class Comments:
    """Leading and trailing comments of a file's elements, by their descriptor path."""

    def __init__(self, file: descriptor_pb2.FileDescriptorProto) -> None:
        self._by_path = {tuple(loc.path): loc for loc in file.source_code_info.location}

    def of(self, *path: int) -> str:
        loc = self._by_path.get(path)
        if loc is None:
            return ""
        text = loc.leading_comments or loc.trailing_comments
        return " ".join(line.strip() for line in text.strip().splitlines())


# Field numbers of descriptor.proto, for source-info paths.
FILE_MESSAGE, FILE_ENUM, FILE_SERVICE = 4, 5, 6
MESSAGE_FIELD, SERVICE_METHOD = 2, 2


class Catalog:
    """Every message and enum of the package (and its imports), with their comments."""

    def __init__(self, files: descriptor_pb2.FileDescriptorSet) -> None:
        self.messages: dict[str, tuple[descriptor_pb2.DescriptorProto, str, list[str]]] = {}
        self.enums: dict[str, tuple[descriptor_pb2.EnumDescriptorProto, str]] = {}
        self.services: list[tuple[descriptor_pb2.ServiceDescriptorProto, Comments, int]] = []
        for file in files.file:
            comments = Comments(file)
            for i, message in enumerate(file.message_type):
                fields = [comments.of(FILE_MESSAGE, i, MESSAGE_FIELD, j) for j in range(len(message.field))]
                self.messages[f".{file.package}.{message.name}"] = (message, comments.of(FILE_MESSAGE, i), fields)
            for i, enum in enumerate(file.enum_type):
                self.enums[f".{file.package}.{enum.name}"] = (enum, comments.of(FILE_ENUM, i))
            if file.package == PACKAGE:
                self.services += [(service, comments, i) for i, service in enumerate(file.service)]
        self.services.sort(key=lambda s: s[0].name)


def schema_name(type_name: str) -> str:
    return type_name.rsplit(".", 1)[-1]


class SchemaBuilder:
    """components/schemas: request messages loose (proto3 has no required fields), response
    messages with every printed field required and nothing else allowed."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.schemas: dict[str, dict] = {}
        self._direction: dict[str, str] = {}

    def ref(self, type_name: str, direction: str) -> dict:
        if type_name in WELL_KNOWN:
            return dict(WELL_KNOWN[type_name])
        name = schema_name(type_name)
        if type_name in self.catalog.enums:
            if name not in self.schemas:
                enum, comment = self.catalog.enums[type_name]
                self.schemas[name] = {"type": "string", "enum": [v.name for v in enum.value]}
                if comment:
                    self.schemas[name]["description"] = comment
            return {"$ref": f"#/components/schemas/{name}"}
        seen = self._direction.setdefault(name, direction)
        if seen != direction:
            raise ValueError(f"{name} is used in both requests and responses: give each its own message")
        if name not in self.schemas:
            self.schemas[name] = {}  # placeholder against recursion
            self.schemas[name] = self.message_schema(type_name, direction)
        return {"$ref": f"#/components/schemas/{name}"}

    def message_schema(self, type_name: str, direction: str, skip: frozenset[str] = frozenset()) -> dict:
        message, comment, field_comments = self.catalog.messages[type_name]
        properties = {}
        for field, field_comment in zip(message.field, field_comments, strict=False):
            if field.name not in skip:
                properties[field.name] = self.field_schema(field, field_comment, direction)
        schema: dict = {"type": "object", "properties": properties}
        if comment:
            schema["description"] = comment
        if direction == "response":
            schema["required"] = [
                f.name for f in message.field if f.type != F.TYPE_MESSAGE or f.label == F.LABEL_REPEATED
            ]
            schema["additionalProperties"] = False
        return schema

    def field_schema(self, field: F, comment: str, direction: str) -> dict:
        if field.type == F.TYPE_ENUM and direction == "request":
            # proto3 JSON parsers take an enum's number as well as its name.
            item = {"anyOf": [self.ref(field.type_name, direction), {"type": "integer", "format": "int32"}]}
        elif field.type in (F.TYPE_MESSAGE, F.TYPE_ENUM):
            item = self.ref(field.type_name, direction)
        else:
            item = scalar_schema(field, comment)
        if field.label == F.LABEL_REPEATED:
            item = {"type": "array", "items": item}
        if comment:
            # A $ref cannot carry siblings in OpenAPI 3.0: wrap it.
            item = {"allOf": [item], "description": comment} if "$ref" in item else {**item, "description": comment}
        return item

    def parameter_schema(self, field: F, comment: str) -> tuple[dict, str]:
        """(schema, description) of a path or query parameter."""
        schema = self.field_schema(field, comment, "request")
        description = schema.pop("description", "")
        if "allOf" in schema:
            schema = schema["allOf"][0]
        return schema, description


def scalar_schema(field: F, comment: str = "") -> dict:
    if field.type in INT64_TYPES:
        # int64 is a decimal string (proto3 JSON); an id is positive unless its comment gives 0 a meaning.
        zero_ok = re.search(r"\b0\b", comment) or not field.name.endswith("_id")
        return {"type": "string", "format": "int64", "pattern": r"^-?[0-9]+$" if zero_ok else r"^[1-9][0-9]{0,18}$"}
    if field.type in INT32_TYPES:
        return {"type": "integer", "format": "int32", "minimum": -(2**31), "maximum": 2**31 - 1}
    if field.type in UINT32_TYPES:
        return {"type": "integer", "format": "int32", "minimum": 0, "maximum": 2**32 - 1}
    schema = dict(SCALARS[field.type])
    # A day, unless the comment says empty is allowed too (a format would forbid it).
    if field.type == F.TYPE_STRING and comment.startswith("YYYY-MM-DD") and "empty" not in comment:
        schema["format"] = "date"
    return schema


def who_may_call(method_comment: str, service_comment: str) -> list[str] | None:
    """The roles a method's proto comment names; None for "anyone" (no token).

    Conventions of protos/: "Anyone signed in." means every role; a service comment
    "open to anyone" makes its methods public; otherwise the comment names the roles
    ("That seller, or an admin.", "Admin only.", "the INGEST role").
    """
    text = method_comment.lower()
    if "anyone signed in" in text:
        return list(ALL_ROLES)
    if not text and "open to anyone" in service_comment.lower():
        return None
    roles = [role for word, role in ROLE_WORDS.items() if re.search(rf"\b{word}s?\b", text)]
    if not roles:
        raise ValueError(f"say who may call it in the proto comment: {method_comment!r}")
    return [role for role in ALL_ROLES if role in roles]


def parameter(builder: SchemaBuilder, name: str, where: str, field: F, comment: str) -> dict:
    schema, description = builder.parameter_schema(field, comment)
    result = {"name": name, "in": where, "required": where == "path", "schema": schema}
    return result | ({"description": description} if description else {})


def operation(
    catalog: Catalog, builder: SchemaBuilder, service, comments: Comments, s_index: int, m_index: int, method
) -> tuple[str, str, dict]:
    rule = method.options.Extensions[annotations_pb2.http]
    verb = rule.WhichOneof("pattern")
    path = getattr(rule, verb)
    method_comment = comments.of(FILE_SERVICE, s_index, SERVICE_METHOD, m_index)
    roles = who_may_call(method_comment, comments.of(FILE_SERVICE, s_index))
    request_type = method.input_type
    message, _, field_comments = catalog.messages[request_type]
    fields = dict(zip((f.name for f in message.field), zip(message.field, field_comments, strict=False), strict=False))
    path_fields = re.findall(r"{(\w+)}", path)
    parameters = [parameter(builder, name, "path", *fields[name]) for name in path_fields]
    op: dict = {
        "operationId": f"{service.name}.{method.name}",
        "tags": [service.name],
        "summary": re.sub(r"(?<=[a-z])(?=[A-Z])", " ", method.name).capitalize(),
        "description": (
            (method_comment + " " if method_comment else "")
            + f"Who may call: {'anyone (no token)' if roles is None else ', '.join(roles)}. "
            + f"gRPC: `/{PACKAGE}.{service.name}/{method.name}`."
        ),
        "x-roles": roles or [],
    }
    if rule.body == "*":
        body = builder.message_schema(request_type, "request", skip=frozenset(path_fields))
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    else:
        parameters += [parameter(builder, name, "query", *fields[name]) for name in fields if name not in path_fields]
    if parameters:
        op["parameters"] = parameters
    if roles is None:
        op["security"] = []
    if method.server_streaming:
        op["x-stream"] = "newline-delimited JSON"
    if method.output_type == HTTP_BODY:
        op["responses"] = {"200": file_response(method.name)}
    else:
        op["responses"] = {"200": json_response(builder, method)}
    op["responses"].update(
        error_responses(
            method.name,
            public=roles is None,
            restricted=roles not in (None, ALL_ROLES),
            has_body=rule.body == "*",
            has_path_params=bool(path_fields),
        )
    )
    return path, verb, op


HTTP_BODY = ".google.api.HttpBody"


def json_response(builder: SchemaBuilder, method) -> dict:
    """The 200 of a method answering a message as JSON (a stream: one message per line)."""
    response_schema = builder.ref(method.output_type, "response")
    description = "OK"
    if method.server_streaming:
        description = (
            f"A stream: one {schema_name(method.output_type)} JSON object per line (newline-delimited), "
            "sent as each happens. The schema is that of one line. An error after the first line cannot "
            "change the status any more: the stream just ends, so a complete stream is one whose last "
            "line has `final: true`."
        )
    return {"description": description, "content": {"application/json": {"schema": response_schema}}}


def file_response(method_name: str) -> dict:
    """A method returning google.api.HttpBody sends a file, not JSON. Every such method of the
    protos is a CSV export, named ...Csv (a new kind of file needs its own entry here)."""
    if not method_name.endswith("Csv"):
        raise ValueError(f"{method_name} returns HttpBody: say in tools/openapi.py what file it sends")
    return {
        "description": "A CSV file: UTF-8 with a byte-order mark, one header row, totals last (docs/ledger.md)",
        "headers": {
            "Content-Disposition": {
                "description": "attachment, with the file's name",
                "schema": {"type": "string"},
            }
        },
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }


def build_document(files: descriptor_pb2.FileDescriptorSet | None = None) -> dict:
    catalog = Catalog(files or load_descriptor_set())
    builder = SchemaBuilder(catalog)
    paths: dict[str, dict] = {}
    tags = []
    for service, comments, s_index in catalog.services:
        operations = [
            operation(catalog, builder, service, comments, s_index, m_index, method)
            for m_index, method in enumerate(service.method)
            if method.options.Extensions[annotations_pb2.http].WhichOneof("pattern")
        ]
        if not operations:
            continue
        tags.append({"name": service.name, "description": comments.of(FILE_SERVICE, s_index)})
        for path, verb, op in operations:
            paths.setdefault(path, {})[verb] = op
    paths["/openapi.json"] = {
        "get": {
            "operationId": "OpenAPI.Get",
            "tags": ["OpenAPI"],
            "summary": "This document, served by Envoy.",
            "description": "Who may call: anyone (no token).",
            "x-roles": [],
            "security": [],
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
            },
        }
    }
    tags.append({"name": "OpenAPI", "description": "The API's own description."})
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "PaySystem JSON API",
            "version": "v1",
            "description": (
                "Statistics and settlement for the sellers of a video platform. Generated from protos/ by "
                "`python -m tools.gendocs`; every method is also callable over gRPC on the same port. "
                "int64 fields are JSON strings; money is an exact decimal string; field names are the "
                "proto names (snake_case); enums are their names."
            ),
        },
        "servers": [{"url": "http://127.0.0.1:8080"}],
        "tags": tags,
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT (RS256)"}},
            "schemas": dict(sorted({**builder.schemas, "Error": ERROR_SCHEMA}.items())),
            "responses": error_components(),
        },
        "security": [{"bearer": []}],
    }
