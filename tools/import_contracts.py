"""An import-linter contract type of our own: siblings meet only at each other's front door.

`published_only` (pyproject.toml, `[tool.importlinter] contract_types`): among the listed
sibling packages, a module of one may import a module of another only if it is that
package's `published` module. Each owner's `published.py` is what it lets others read (its
tables for reading, read functions, constants); everything else it has (its tables module,
repository, use cases, servicer) is its own. The built-in `independence` contract forbids
every import between siblings and `protected` cannot leave one submodule open, hence this
type; it is a rule, not a list of exceptions, so a new module is covered without naming it.
"""

from __future__ import annotations

from typing import Any

import grimp
from importlinter import Contract, ContractCheck, fields, output


class PublishedOnlyContract(Contract):
    modules = fields.ListField(subfield=fields.StringField())
    published = fields.StringField(required=False, default="published")

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        owners: list[str] = list(self.modules)  # type: ignore[call-overload]
        front_door = {owner: f"{owner}.{self.published}" for owner in owners}
        illegal: list[dict[str, Any]] = []
        for importer_owner in owners:
            for importer in sorted(graph.find_descendants(importer_owner) | {importer_owner}):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    owner = _owner_of(imported, owners)
                    if owner is None or owner == importer_owner or imported == front_door[owner]:
                        continue
                    details = graph.get_import_details(importer=importer, imported=imported)
                    lines = sorted({detail["line_number"] for detail in details})
                    illegal.append({"importer": importer, "imported": imported, "lines": lines})
        return ContractCheck(kept=not illegal, metadata={"illegal": illegal, "front_door": front_door})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for link in check.metadata["illegal"]:
            lines = ", ".join(map(str, link["lines"]))
            output.print_error(f"- {link['importer']} -> {link['imported']} (l.{lines})", bold=False)
        output.new_line()
        doors = ", ".join(sorted(check.metadata["front_door"].values()))
        output.print(f"Another package's modules are reached only through its published module ({doors}).")


def _owner_of(module: str, owners: list[str]) -> str | None:
    for owner in owners:
        if module == owner or module.startswith(owner + "."):
            return owner
    return None
