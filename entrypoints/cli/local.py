"""What in-process CLI commands share: the configured database, migrated, and quiet logs."""

from __future__ import annotations


def local_engine(component: str):
    """(settings, engine) for the configured database, migrated to the newest schema."""
    import migrations
    from services.common import db
    from services.common.logs import configure_logging
    from services.common.settings import get_settings

    settings = get_settings()
    configure_logging(component, "cli", level="WARNING", fmt="text")
    engine = db.make_engine(settings)
    migrations.migrate(engine)
    return settings, engine
