"""The welcome a member sees on their first visit to a cohort's page, until "Got it".

No column of its own: the visit records say whether this is the member's first sitting
(:func:`app.cohorts.progress.previous_visit`), and dismissing it closes that sitting, as a
later visit would.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, update

from app.accounts.models import User
from app.cohorts.access import CohortAccess, get_cohort_for
from app.cohorts.models import Membership
from app.cohorts.progress import previous_visit
from app.db import transaction

#: The cohort's anonymity policy in plain words, as a learner and as a facilitator hear it.
ANONYMITY_IN_PLAIN_WORDS = {
    "learner": {
        "off": "Everyone in the cohort sees your name on what you post: this cohort has no "
               "anonymous posting.",
        "peers": "You can post anonymously: your peers will not see your name; facilitators "
                 "will.",
        "everyone": "You can post anonymously: nobody in the cohort will see your name, "
                    "facilitators included (only a reveal that two owners or admins agree "
                    "to can show it, and you would be told).",
    },
    "facilitator": {
        "off": "Names are always shown: nobody can post anonymously in this cohort.",
        "peers": "Learners can post anonymously: their peers will not see their names; you "
                 "will, as a facilitator.",
        "everyone": "Learners can post anonymously: nobody in the app sees their names, you "
                    "included.",
    },
}


@dataclass(frozen=True)
class Welcome:
    """What the first visit explains: the role it speaks to and the anonymity policy."""

    role: str
    anonymity: str


def welcome_for(access: CohortAccess, now: datetime) -> Welcome | None:
    """The welcome for a member's first visit (until they dismiss it); None otherwise.

    No query: the membership came with the cohort. The program's owner has none.
    """
    membership = access.membership
    if access.role not in ANONYMITY_IN_PLAIN_WORDS or membership is None:
        return None
    if previous_visit(membership, now) is not None:
        return None
    policy = access.cohort.anonymity
    return Welcome(role=access.role,
                   anonymity=ANONYMITY_IN_PLAIN_WORDS[access.role].get(policy, ""))


def dismiss_welcome(user: User, cohort_id: int, now: datetime) -> None:
    """A member has read the welcome: it is never shown again (twice changes nothing).

    The first sitting ends here: its first visit becomes the one "new since your last
    visit" compares with. Outsiders get NotFound; the owner has nothing to dismiss.
    """
    access = get_cohort_for(user, cohort_id)
    if access.membership is None:
        return
    with transaction() as session:
        session.execute(
            update(Membership)
            .where(Membership.id == access.membership.id,
                   Membership.previous_visit_at.is_(None))
            .values(previous_visit_at=func.coalesce(Membership.last_visit_at, now))
            .execution_options(synchronize_session=False))
