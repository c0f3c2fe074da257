"""The demo: users for each role, a program and a running cohort. Idempotent."""

from datetime import timedelta

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app.accounts.models import User
from app.cohorts import services as cohorts
from app.cohorts.models import Cohort, Program
from app.db import get_session, transaction, utcnow

DEMO_PASSWORD = "cohort-demo"  # noqa: S105 (published demo logins)
DEMO_PROGRAM = "Feedback that helps"
DEMO_COHORT = "Autumn cohort"
USERS = [
    ("admin@demo.test", "Ada Admin", "site admin", {"is_admin": True}),
    ("owner@demo.test", "Oscar Owner", "program owner", {"can_own_programs": True}),
    ("facilitator@demo.test", "Fatima Facilitator", "facilitator", {}),
    *[(f"learner{n}@demo.test", name, "learner", {}) for n, name in enumerate(
        ["Lena", "Marco", "Priya", "Tomás", "Yuki", "Amara", "Jonas", "Sofia"], start=1)],
]
MODULES = [
    ("Why feedback matters", "What makes feedback land, and what makes it sting.", 0),
    ("Asking for feedback", "Practise asking a colleague for specific feedback.", 7),
    ("Giving kind, specific feedback", "Situation, behaviour, impact.", 14),
]


def _ensure_user(email: str, name: str, flags: dict) -> User:
    """Create a demo user once, with the demo password."""
    session = get_session()
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, name=name, password_hash=generate_password_hash(DEMO_PASSWORD),
                    timezone="Europe/London", **flags)
        session.add(user)
        session.flush()
    return user


def seed_demo() -> list[tuple[str, str]]:
    """Create what is missing of the demo and return the logins with their roles."""
    now = utcnow()
    with transaction() as session:
        users = {email: _ensure_user(email, name, flags) for email, name, _, flags in USERS}
        owner = users["owner@demo.test"]
        program = session.scalar(select(Program).where(Program.owner_id == owner.id,
                                                       Program.title == DEMO_PROGRAM))
        if program is None:
            program = cohorts.create_program(
                owner, title=DEMO_PROGRAM,
                summary="A six-week program on asking for, giving and using feedback.",
                goals=["Ask for feedback", "Give specific, kind feedback", "Psychological safety"],
                now=now)
            for title, body, offset in MODULES:
                cohorts.add_module(owner, program.id, title=title, body=body,
                                   release_offset_days=offset)
        cohort = session.scalar(select(Cohort).where(Cohort.program_id == program.id,
                                                     Cohort.name == DEMO_COHORT))
        if cohort is None:
            cohort = cohorts.launch_cohort(
                owner, program.id, name=DEMO_COHORT, starts_on=(now - timedelta(days=14)).date(),
                timezone="Europe/London", anonymity="peers", now=now)
        for email, _, role, _ in USERS:
            if role in ("facilitator", "learner"):
                cohorts.enroll_member(owner, cohort.id, email=email, role=role, now=now)
    # Releases whose time has passed (the cohort started two weeks ago) happen now.
    cohorts.release_due_modules(now=now)
    return [(email, role) for email, _, role, _ in USERS]
