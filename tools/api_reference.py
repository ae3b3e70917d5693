"""docs/api.md, the API reference for people, written from the OpenAPI document alone."""

from __future__ import annotations

HEADER = """# API reference

Generated from [openapi.json](openapi.json) (itself generated from `protos/`) by
`python -m tools.gendocs`; do not edit by hand. Envoy serves the same document at
`GET /openapi.json`.

JSON through Envoy on port 8080; every method is also callable over gRPC on the same port.
Send the token as `authorization: Bearer <access_token>` (from `POST /v1/auth/token`).
int64 fields are JSON strings, money is an exact decimal string, field names are the proto
names, enums are their names. Response objects always carry every field listed without
"optional" (zeros and empty strings included).
"""


def _resolve(document: dict, schema: dict) -> dict:
    while "$ref" in schema or "allOf" in schema:
        if "allOf" in schema:
            schema = schema["allOf"][0]
        else:
            schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def type_of(schema: dict) -> str:
    if "allOf" in schema:
        schema = schema["allOf"][0]
    if "anyOf" in schema:
        return " or ".join(type_of(choice) for choice in schema["anyOf"])
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if schema.get("type") == "array":
        return f"array of {type_of(schema['items'])}"
    if schema.get("format") == "int64":
        return "int64 (string)"
    return schema.get("format") or schema.get("type", "any")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _fields_table(document: dict, schema: dict) -> list[str]:
    schema = _resolve(document, schema)
    properties = schema.get("properties", {})
    if not properties:
        return ["(no fields)", ""]
    required = set(schema.get("required", []))
    lines = ["| field | type | notes |", "| --- | --- | --- |"]
    for name, field in properties.items():
        note = field.get("description", "")
        if required and name not in required:
            note = ("optional. " + note).strip()
        lines.append(f"| `{name}` | {type_of(field)} | {_cell(note)} |")
    return [*lines, ""]


def _operation(document: dict, path: str, verb: str, op: dict) -> list[str]:
    lines = [f"### {verb.upper()} `{path}`", "", op["summary"], "", op["description"], ""]
    if op.get("parameters"):
        lines += ["| parameter | in | type | notes |", "| --- | --- | --- | --- |"]
        for p in op["parameters"]:
            lines.append(f"| `{p['name']}` | {p['in']} | {type_of(p['schema'])} | {_cell(p.get('description', ''))} |")
        lines.append("")
    if "requestBody" in op:
        lines += [
            "Request body (JSON):",
            "",
            *_fields_table(document, op["requestBody"]["content"]["application/json"]["schema"]),
        ]
    ok = op["responses"]["200"]
    if "application/json" in ok["content"]:
        lines += [f"Response 200: {type_of(ok['content']['application/json']['schema'])}. {ok['description']}", ""]
    else:
        (media_type,) = ok["content"]
        lines += [f"Response 200: a `{media_type}` file. {ok['description']}", ""]
    errors = [code for code in op["responses"] if code != "200"]
    if errors:
        lines += ["Errors: " + ", ".join(errors) + " (see [Errors](#errors)).", ""]
    return lines


def render(document: dict) -> str:
    lines = [HEADER]
    lines += ["## Operations", "", "| method | path | who may call |", "| --- | --- | --- |"]
    operations = [(path, verb, op) for path, item in document["paths"].items() for verb, op in item.items()]
    for path, verb, op in operations:
        who = ", ".join(op["x-roles"]) if op.get("security") != [] else "anyone (no token)"
        lines.append(f"| {verb.upper()} | `{path}` | {who} |")
    lines.append("")
    for tag in document["tags"]:
        lines += [f"## {tag['name']}", "", tag["description"], ""]
        for path, verb, op in operations:
            if tag["name"] in op["tags"]:
                lines += _operation(document, path, verb, op)
    lines += ["## Errors", "", _resolve(document, {"$ref": "#/components/schemas/Error"})["description"], ""]
    lines += ["| status | when |", "| --- | --- |"]
    for name, response in document["components"]["responses"].items():
        lines.append(f"| {name.removeprefix('E')} | {_cell(response['description'])} |")
    lines += ["", "## Types", ""]
    for name, schema in document["components"]["schemas"].items():
        if name == "Error":
            continue
        lines += [f"### {name}", ""]
        if schema.get("description"):
            lines += [schema["description"], ""]
        if "enum" in schema:
            lines += ["One of: " + ", ".join(f"`{v}`" for v in schema["enum"]) + ".", ""]
        else:
            lines += _fields_table(document, schema)
    return "\n".join(lines).rstrip() + "\n"
