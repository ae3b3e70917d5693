"""Webhooks: the endpoint registry, the transactional outbox and the dispatcher (docs/webhooks.md)."""
