"""The statistics service."""
