"""A thread as one person meets it: its stage and dates, and what the viewer may see and do
now (post first, the reply gate before synthesis, locks and mutes).

:func:`get_thread_for` is the one lookup every thread entrypoint goes through (pages, API,
live events, posting and moderation): one query brings the thread, its module, cohort and
program, and the viewer's membership, place in the thread and mute.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import aliased, contains_eager, defer

from app.accounts.models import User
from app.cohorts.access import CohortAccess, access_of
from app.cohorts.models import Cohort, CohortModule, Membership, Program
from app.cohorts.schedule import days_after
from app.db import get_session, lock_for_update
from app.discussions.models import (
    CLOSED,
    REFLECT,
    RESPOND,
    STAGES,
    SYNTHESIZE,
    Mute,
    Thread,
    ThreadParticipant,
)
from app.errors import NotFound

#: Below this many posters a count could single someone out: it is shown as "a few".
MIN_GROUP = 5

STAGE_LABELS = {"reflect": "Reflect", "respond": "Respond", "synthesize": "Synthesize",
                "closed": "Closed"}


def stage_opens(thread: Thread, release_at: datetime, zone: str) -> tuple[datetime, ...]:
    """When each stage opens by its dates: reflect at the module's release, the others at
    their offsets in local days in the cohort's zone."""
    return (release_at,
            days_after(release_at, thread.respond_after_days, zone),
            days_after(release_at, thread.synthesize_after_days, zone),
            days_after(release_at, thread.close_after_days, zone))


def stage_by_date(opens: tuple[datetime, ...], now: datetime) -> int:
    """The stage the dates give at ``now`` (reflect before release too: the thread is not
    shown to learners then anyway)."""
    stage = REFLECT
    for index, moment in enumerate(opens):
        if moment <= now:
            stage = index
    return stage


def current_stage(thread: Thread, opens: tuple[datetime, ...], now: datetime) -> int:
    """The thread's stage at ``now``: the later of what its dates give and where a
    facilitator advanced it."""
    return max(stage_by_date(opens, now), thread.advanced_stage)


def peers_posted_text(count: int) -> str:
    """'No peers have posted yet', 'A few peers have posted' (below MIN_GROUP), '7 peers…'."""
    if count == 0:
        return "No peers have posted yet"
    if count < MIN_GROUP:
        return "A few peers have posted"
    return f"{count} peers have posted"


@dataclass
class ThreadAccess:
    """A thread, its stage and what one viewer may do in it now."""

    viewer: CohortAccess
    thread: Thread
    module: CohortModule
    participant: ThreadParticipant | None
    muted_until: datetime | None
    now: datetime
    opens: tuple[datetime, ...]
    stage: int

    @property
    def stage_name(self) -> str:
        """'reflect', 'respond', 'synthesize' or 'closed'."""
        return STAGES[self.stage]

    @property
    def stage_label(self) -> str:
        """The stage as people read it."""
        return STAGE_LABELS[self.stage_name]

    @property
    def next_stage(self) -> tuple[str, datetime] | None:
        """The next stage and when its date comes, unless the thread is closed."""
        if self.stage == CLOSED:
            return None
        return STAGE_LABELS[STAGES[self.stage + 1]], self.opens[self.stage + 1]

    @property
    def is_staff(self) -> bool:
        """Facilitators and the program's owner."""
        return self.viewer.is_staff

    @property
    def has_posted(self) -> bool:
        """The viewer has posted their reflection (post first is behind them)."""
        return self.participant is not None and self.participant.posted_at is not None

    @property
    def replies_given(self) -> int:
        """Replies the viewer has given to other people's posts."""
        return self.participant.replies_given if self.participant is not None else 0

    @property
    def is_open(self) -> bool:
        """The module has been released (staff may look at a thread before that)."""
        return self.module.is_released(self.now)

    @property
    def is_locked(self) -> bool:
        """A facilitator has locked the thread."""
        return self.thread.locked_at is not None

    @property
    def is_muted(self) -> bool:
        """The viewer is muted in the cohort at the moment."""
        return self.muted_until is not None and self.muted_until > self.now

    @property
    def can_see_posts(self) -> bool:
        """Staff always; a learner once they have posted their reflection."""
        return self.is_staff or self.has_posted

    @property
    def _can_write(self) -> bool:
        """Posting of any kind is possible for this viewer at all right now."""
        if not self.is_open or self.is_muted or self.stage == CLOSED:
            return False
        return self.is_staff or not self.is_locked

    @property
    def can_post_reflection(self) -> bool:
        """A learner's one reflection (any open stage, until closed); staff post top-level
        notes before synthesis."""
        if not self._can_write:
            return False
        if self.is_staff:
            return self.stage < SYNTHESIZE
        return not self.has_posted

    @property
    def can_reply(self) -> bool:
        """Replies open at the respond stage (staff may reply at any open stage)."""
        if not self._can_write or not self.can_see_posts:
            return False
        return self.is_staff or self.stage >= RESPOND

    @property
    def replies_needed(self) -> int:
        """Replies the viewer still owes before their synthesis opens."""
        return max(0, self.thread.min_replies - self.replies_given)

    @property
    def can_synthesize(self) -> bool:
        """Synthesis (staff) or a take-away (learners): the stage has opened and a learner
        has posted their reflection and given the required replies."""
        if not self._can_write or self.stage < SYNTHESIZE:
            return False
        return self.is_staff or (self.has_posted and self.replies_needed == 0)

    @property
    def can_react(self) -> bool:
        """Reacting and flagging need the posts in view, and no mute."""
        return self.can_see_posts and not self.is_muted and self.is_open

    @property
    def peers_posted(self) -> str:
        """How many learners have posted, in words that never single anyone out."""
        return peers_posted_text(self.thread.reflection_count)

    def what_now(self) -> str:
        """One sentence: what the viewer may do now."""
        if not self.is_open:
            return "This discussion opens when its module opens."
        if self.stage == CLOSED:
            if not self.can_see_posts:
                # Post first holds after the close: the posts were written for those who
                # took part.
                return ("This discussion closed before you posted, so its posts stay with "
                        "those who took part. A facilitator can tell you what came out of it.")
            return "This discussion has closed; it stays here to read."
        if self.is_muted:
            return "A facilitator has paused your posting in this cohort for now; you can read."
        if self.is_locked and not self.is_staff:
            return "A facilitator has locked this discussion for now; you can read."
        if self.is_staff:
            return "You can read everything, post, reply and moderate."
        if not self.has_posted:
            return "Post your reflection to see your peers'."
        if self.stage == REFLECT:
            return "Replies open in the next stage; until then, read your peers' reflections."
        if self.stage == RESPOND or self.replies_needed:
            if self.replies_needed:
                peers = "peer" if self.replies_needed == 1 else "peers"
                return f"Reply to {self.replies_needed} more {peers} " + (
                    "before your synthesis opens." if self.stage >= SYNTHESIZE else
                    f"(you have given {self.replies_given} of {self.thread.min_replies}).")
            return "Reply to your peers' reflections."
        return "Add your take-away to the synthesis."


@cache
def _thread_statement():
    """The thread with everything an access decision needs, for one viewer (built once)."""
    participant = aliased(ThreadParticipant)
    mute = aliased(Mute)
    return (
        select(Thread, Membership, participant, mute.until)
        .join(CohortModule, CohortModule.id == Thread.cohort_module_id)
        .join(Cohort, Cohort.id == Thread.cohort_id)
        .join(Program, Program.id == Cohort.program_id)
        .outerjoin(Membership, and_(Membership.cohort_id == Thread.cohort_id,
                                    Membership.user_id == bindparam("user_id")))
        .outerjoin(participant, and_(participant.thread_id == Thread.id,
                                     participant.user_id == bindparam("user_id")))
        .outerjoin(mute, and_(mute.cohort_id == Thread.cohort_id,
                              mute.user_id == bindparam("user_id")))
        .where(Thread.id == bindparam("thread_id"))
        .options(defer(Thread.body),
                 contains_eager(Thread.cohort_module).defer(CohortModule.body),
                 contains_eager(Thread.cohort_module).defer(CohortModule.body_html),
                 contains_eager(Thread.cohort).contains_eager(Cohort.program))
    )


def get_thread_for(user: User, thread_id: int, *, now: datetime,
                   for_update: bool = False) -> ThreadAccess:
    """The thread as the user may meet it; NotFound unless they take part in its cohort and
    (learners) its module is released.

    ``for_update`` (writes) first locks the thread's row, so writes to one thread queue up
    and each reads what the one before it committed.
    """
    session = get_session()
    statement = _thread_statement()
    if for_update:
        lock_for_update(session, Thread, thread_id)
        statement = statement.execution_options(populate_existing=True)
    row = session.execute(statement, {"user_id": user.id, "thread_id": thread_id}).first()
    if row is None:
        raise NotFound()
    thread, membership, participant, muted_until = row
    viewer = access_of(user, thread.cohort, membership)
    module = thread.cohort_module
    if not viewer.is_staff and not module.is_released(now):
        raise NotFound()
    opens = stage_opens(thread, module.release_at, thread.cohort.timezone)
    stage = current_stage(thread, opens, now)
    return ThreadAccess(viewer=viewer, thread=thread, module=module, participant=participant,
                        muted_until=muted_until, now=now, opens=opens, stage=stage)
