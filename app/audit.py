"""The append-only audit log: who did what, to what, when."""

from datetime import datetime

from sqlalchemy import DDL, JSON, Index, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Model, utcnow


class AuditEntry(Model):
    """One recorded action. Rows are never updated or deleted (enforced by triggers)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_cohort_at", "cohort_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Who acted; None for the system (scheduler, CLI without a user). A plain number,
    #: like ``cohort_id``: a foreign key's ON DELETE would have to rewrite history.
    actor_id: Mapped[int | None] = mapped_column(index=True)
    #: A dotted verb such as "user.created" or "member.role_changed".
    action: Mapped[str] = mapped_column(String(64))
    #: Kept as a plain number (no foreign key) so the log outlives what it describes.
    cohort_id: Mapped[int | None]
    target_type: Mapped[str] = mapped_column(String(32), default="")
    target_id: Mapped[int | None]
    details: Mapped[dict] = mapped_column(JSON, default=dict)


#: Triggers that make the table append-only, for each backend; migrations run the same.
APPEND_ONLY_DDL = {
    "sqlite": [
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'audit_log is append-only'; END $$",
        "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    ],
}

for _dialect, _statements in APPEND_ONLY_DDL.items():
    for _statement in _statements:
        event.listen(
            AuditEntry.__table__, "after_create", DDL(_statement).execute_if(dialect=_dialect)
        )


def record(session: Session, actor_id: int | None, action: str, *, cohort_id: int | None = None,
           target_type: str = "", target_id: int | None = None, **details) -> AuditEntry:
    """Append an entry in the caller's transaction."""
    entry = AuditEntry(
        actor_id=actor_id, action=action, cohort_id=cohort_id,
        target_type=target_type, target_id=target_id, details=details,
    )
    session.add(entry)
    return entry


def list_entries(user, *, cohort_id: int | None, after_id: int, limit: int,
                 actor_id: int | None = None, action: str | None = None,
                 since: datetime | None = None, until: datetime | None = None,
                 newest_first: bool = False) -> list[tuple[AuditEntry, str | None]]:
    """Audit entries with their actors' names, oldest first after a cursor id.

    ``newest_first`` turns the order round (the cursor then names the last id seen, and 0
    starts from the newest). The other filters narrow the entries to one actor, one action,
    and times from ``since`` up to (not including) ``until``. One query, limit + 1 rows.

    Site admins read every entry, or one cohort's; a program's owner (who holds the
    program) reads their cohorts' entries, one cohort at a time. Anyone else is refused:
    NotFound for a cohort that is not theirs, NotAllowed without a cohort. Entries name
    who acted — staff, owners, admins, the system — never the author of an anonymous post
    (services record those actions without one).
    """
    from sqlalchemy import select

    from app.accounts.models import User
    from app.cohorts.access import holds_program
    from app.cohorts.models import Cohort
    from app.db import get_session
    from app.errors import NotAllowed, NotFound

    session = get_session()
    if cohort_id is None:
        if not user.is_admin:
            raise NotAllowed("Name a cohort of your programs (cohort_id); only site admins "
                             "read the whole log.", code="cohort_required")
    elif not user.is_admin:
        cohort = session.get(Cohort, cohort_id)
        if cohort is None or not holds_program(user, cohort.program):
            raise NotFound()
    query = (select(AuditEntry, User.name).outerjoin(User, User.id == AuditEntry.actor_id)
             .limit(limit + 1))
    if newest_first:
        query = query.order_by(AuditEntry.id.desc())
        if after_id:
            query = query.where(AuditEntry.id < after_id)
    else:
        query = query.order_by(AuditEntry.id).where(AuditEntry.id > after_id)
    if cohort_id is not None:
        query = query.where(AuditEntry.cohort_id == cohort_id)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    return [tuple(row) for row in session.execute(query)]


def list_actions() -> list[str]:
    """The actions recorded so far, alphabetically (for a filter's choices)."""
    from sqlalchemy import select

    from app.db import get_session

    return list(get_session().scalars(
        select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
