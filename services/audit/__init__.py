"""The audit log (DESIGN.md section 2b): append-only, hash-chained entries of every admin or money action."""
