"""Writes every generated document: `python -m tools.gendocs` (after a proto or schema change).

    docs/openapi.json  the OpenAPI document, from protos/ (Envoy serves it at /openapi.json)
    docs/api.md        the API reference, from docs/openapi.json
    docs/schema.md     the schema diagram, from the SQLAlchemy metadata

tests/unit/test_generated_docs.py fails when a committed file differs from a fresh generation.
"""

from __future__ import annotations

import json
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCS = REPO_ROOT / "docs"
OPENAPI_PATH = DOCS / "openapi.json"


def openapi_text(document: dict) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def generate() -> dict[Path, str]:
    """{path: content} of every generated file."""
    from tools import api_reference, openapi, schema_diagram

    document = openapi.build_document()
    return {
        OPENAPI_PATH: openapi_text(document),
        DOCS / "api.md": api_reference.render(document),
        DOCS / "schema.md": schema_diagram.render(),
    }


def main() -> None:
    for path, text in generate().items():
        path.write_text(text)
        print(f"wrote {path.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
