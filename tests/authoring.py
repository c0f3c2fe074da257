"""The authoring world shared by prompt and assignment tests: a program module and people in
every role around its program (fixtures ``authoring`` and ``tokens``)."""

from dataclasses import dataclass

import pytest

from app.accounts.models import User
from tests.factories import add_member, create_cohort, create_module, create_program, create_user
from tests.http import bearer, token_for

#: Everyone except the program's owner, who may not author its module (all see 404).
NOT_OWNERS = ("learner", "facilitator", "other_facilitator", "other_owner", "admin",
              "outsider")


@dataclass
class Authoring:
    """A program module, and the people around it by role."""

    program_id: int
    module_id: int
    people: dict[str, User]


@pytest.fixture
def authoring(db) -> Authoring:
    """A module of the owner's program with a cohort, plus a cohort of another program."""
    with db() as session:
        owner = create_user(session, can_own_programs=True)
        program = create_program(session, owner=owner)
        module = create_module(session, program, title="Listening")
        cohort = create_cohort(session, program=program)
        other_cohort = create_cohort(session)
        people = {
            "owner": owner,
            "other_owner": create_user(session, can_own_programs=True),
            "admin": create_user(session, is_admin=True, can_own_programs=True),
            "outsider": create_user(session),
            "learner": add_member(session, cohort).user,
            "facilitator": add_member(session, cohort, role="facilitator").user,
            "other_facilitator": add_member(session, other_cohort, role="facilitator").user,
        }
    return Authoring(program_id=program.id, module_id=module.id, people=people)



@pytest.fixture
def tokens(db, authoring) -> dict:
    """Bearer headers for every role."""
    with db() as session:
        return {role: bearer(token_for(session, user))
                for role, user in authoring.people.items()}
