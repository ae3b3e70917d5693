"""What the test areas share: fixtures, helpers and test worlds, one module per area.

Every module here is a pytest plugin: tests/conftest.py lists them all in `pytest_plugins`
(pytest reads it in the rootdir's conftest only). A test asks for a fixture by its name,
without importing it; helpers (functions, classes, constants, context managers) are imported
from their module as usual, e.g. `from tests.plugins.jobs import add_plays`.

Two plugins must not define the same fixture name (the last one registered would win without
a word; tests/conftest.py refuses to start). The ledger's emptied-and-seeded database is
therefore `ledger_engine`, beside the jobs plugin's `module_engine` (one migrated database per
test module and engine kind) and `engine` (that database, emptied). A test module or a
directory's conftest.py may still override a plugin's fixture on purpose, as pytest allows.
"""
