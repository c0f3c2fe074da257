"""Imports every model so the metadata is complete (Alembic, tests, create_all)."""


def import_all_models() -> None:
    """Import each feature's models."""
    from app import audit, mail  # noqa: F401
    from app.accounts import models as _accounts  # noqa: F401
    from app.cohorts import models as _cohorts  # noqa: F401
    from app.discussions import models as _discussions  # noqa: F401
    from app.notifications import models as _notifications  # noqa: F401
    from app.peer_review import models as _peer_review  # noqa: F401
    from app.peer_review import work_models as _peer_review_work  # noqa: F401
