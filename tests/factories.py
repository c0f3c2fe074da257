"""Plain factory functions: build rows, flush, return. Passwords default to PASSWORD."""

import functools
import itertools
from datetime import date, time

from werkzeug.security import generate_password_hash

from app.accounts.models import User
from app.cohorts.models import Cohort, Membership, Module, Program
from app.db import utcnow

PASSWORD = "correct horse battery"
#: scrypt with a small work factor: the same algorithm and hash format, a fraction of the
#: time. Test apps hash with it too (``PASSWORD_HASH_METHOD``); production keeps the default.
FAST_PASSWORD_HASH_METHOD = "scrypt:1024:8:1"
_counter = itertools.count(1)


@functools.cache
def _hash(password: str) -> str:
    """Hash each distinct test password once, cheaply."""
    return generate_password_hash(password, method=FAST_PASSWORD_HASH_METHOD)


def create_user(session, *, password: str | None = PASSWORD, **overrides) -> User:
    """A user who can sign in with ``password`` (None: an invited user)."""
    n = next(_counter)
    values = {"email": f"user{n}@example.com", "name": f"User {n}", "timezone": "UTC",
              "password_hash": _hash(password) if password else None}
    values.update(overrides)
    user = User(**values)
    session.add(user)
    session.flush()
    return user


def create_program(session, *, owner: User | None = None, **overrides) -> Program:
    """A program (and its owner, with owner rights, when none is given)."""
    owner = owner or create_user(session, can_own_programs=True)
    values = {"title": f"Program {next(_counter)}", "summary": "A program.", "owner_id": owner.id}
    values.update(overrides)
    program = Program(**values)
    session.add(program)
    session.flush()
    return program


def create_module(session, program: Program, **overrides) -> Module:
    """A module at the end of the program."""
    values = {"title": f"Module {next(_counter)}", "body": "Read this.",
              "position": len(program.modules), "release_offset_days": 0,
              "release_time": time(9, 0)}
    values.update(overrides)
    module = Module(**values)
    program.modules.append(module)
    session.flush()
    return module


def create_cohort(session, *, program: Program | None = None, **overrides) -> Cohort:
    """A cohort (of a new program when none is given)."""
    program = program or create_program(session)
    values = {"name": f"Cohort {next(_counter)}", "program_id": program.id,
              "starts_on": date(2026, 1, 5), "timezone": "Europe/Berlin",
              "anonymity": "peers", "launched_at": utcnow()}
    values.update(overrides)
    cohort = Cohort(**values)
    session.add(cohort)
    session.flush()
    return cohort


def add_member(session, cohort: Cohort, user: User | None = None, *,
               role: str = "learner") -> Membership:
    """Put a user (a new one when none is given) in a cohort."""
    user = user or create_user(session)
    membership = Membership(cohort_id=cohort.id, user_id=user.id, role=role)
    session.add(membership)
    session.flush()
    return membership
