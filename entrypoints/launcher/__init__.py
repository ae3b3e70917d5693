"""The local mesh: which processes make it up, Envoy's rendered config, and the supervisor.

`paysystem up` (entrypoints/cli/mesh.py) and the test harness (tests/mesh.py) both run
`Supervisor` from here.
"""
