"""`paysystem`: the operator's and developer's entry point.

Each module below contributes its commands through a `commands` list.
"""

from __future__ import annotations

import click

from entrypoints.cli import accounts, archive, audit, batch, demo, exports, ledger, mesh, seed


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """PaySystem: statistics and settlement for the sellers of a video platform."""


for module in (demo, mesh, accounts, seed, batch, ledger, archive, exports, audit):
    for command in module.commands:
        main.add_command(command)
