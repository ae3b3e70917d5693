"""Commands: filled in by its owner."""

import click  # noqa: F401

commands: list = []
