"""The read path of the read services: replicas and routing between them, the data-version
watch, and the two-tier cache (services/readpath/README.md)."""
