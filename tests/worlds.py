"""The world most access tests stand in: two cohorts and a person in every role around them.

Cohort A and cohort B each run a program of their own owner; each has a learner and a
facilitator; a site admin and an outsider have no part in either. Tests that need more
(people to remove, a former owner, modules) add them to what ``two_cohorts`` returns.
"""

from dataclasses import dataclass, field

from app.accounts.models import User
from app.cohorts.models import Cohort, Program
from tests.factories import add_member, create_cohort, create_program, create_user

#: Everyone ``two_cohorts`` creates, by role name.
ROLES = ("owner_a", "owner_b", "learner_a", "facilitator_a", "learner_b", "facilitator_b",
         "admin", "outsider")


@dataclass
class TwoCohorts:
    """Cohorts A and B, their programs, and the people around them by role name."""

    cohort_a: Cohort
    cohort_b: Cohort
    program_a: Program
    program_b: Program
    people: dict[str, User]
    #: Role name -> a personal API token, once ``with_tokens`` has made them.
    tokens: dict[str, str] = field(default_factory=dict)

    def with_tokens(self, session) -> "TwoCohorts":
        """Give everyone in ``people`` (extras included) an API token."""
        from tests.http import token_for

        self.tokens.update({name: token_for(session, user) for name, user in self.people.items()
                            if name not in self.tokens})
        return self


def two_cohorts(session, *, admin_owns_programs: bool = True) -> TwoCohorts:
    """Build the world in the caller's session (flushed, not committed).

    ``admin_owns_programs``: whether the site admin also holds the program-owner right (an
    admin without it manages accounts but authors nothing).
    """
    owner_a = create_user(session, can_own_programs=True)
    owner_b = create_user(session, can_own_programs=True)
    program_a = create_program(session, owner=owner_a, title="Program A")
    program_b = create_program(session, owner=owner_b, title="Program B")
    cohort_a = create_cohort(session, program=program_a, name="Cohort Alpha")
    cohort_b = create_cohort(session, program=program_b, name="Cohort Beta")
    people = {"owner_a": owner_a, "owner_b": owner_b}
    for cohort, suffix in ((cohort_a, "a"), (cohort_b, "b")):
        for role in ("learner", "facilitator"):
            people[f"{role}_{suffix}"] = add_member(session, cohort, role=role).user
    people["admin"] = create_user(session, is_admin=True, can_own_programs=admin_owns_programs)
    people["outsider"] = create_user(session)
    return TwoCohorts(cohort_a, cohort_b, program_a, program_b, people)
