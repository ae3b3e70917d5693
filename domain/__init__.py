"""The rules of the business, free of I/O: periods, money, text, the counted-view rules,
pricing, the ledger's rules and the errors they raise (domain/README.md)."""
