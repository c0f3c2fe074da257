"""Stage announcements: each stage of a thread is announced once, when it opens by its
dates (the stage job) or when a facilitator advances the thread.

"Once" holds across processes: an announcement first claims its stage with a conditional
UPDATE of ``threads.announced_stage``, so two schedulers, a duplicate job or a facilitator
racing the job can never both announce; the notices also carry a dedupe key per thread
and stage. Reflect is not announced: the module's release notice says it.
"""

from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from app.cohorts.models import Cohort, CohortModule, Membership
from app.db import get_session, transaction
from app.discussions import live
from app.discussions.models import CLOSED, RESPOND, SYNTHESIZE, Thread
from app.discussions.threads import stage_by_date, stage_opens
from app.links import Target
from app.notifications.services import Audience, notice_room, notify

#: A stage that opened longer ago than this is marked announced without a notice: after a
#: long outage (or for threads older than the stage job) it is no longer news.
STALE_ANNOUNCEMENT = timedelta(days=3)

#: Each announced stage's notice: its title and body.
_STAGE_NOTICES = {
    RESPOND: ("Replies are open in {cohort}: “{title}”",
              "Read your peers' reflections and reply."),
    SYNTHESIZE: ("Synthesis is open in {cohort}: “{title}”",
                 "Add your take-away once you have given your replies."),
    CLOSED: ("A discussion has closed in {cohort}: “{title}”",
             "It stays there to read for everyone who took part."),
}


def claim_stage(thread_id: int, stage: int) -> bool:
    """Mark a stage announced; True for the one caller that moved it (two schedulers, or a
    facilitator racing the job, can never both announce)."""
    return get_session().execute(
        update(Thread).where(Thread.id == thread_id, Thread.announced_stage < stage)
        .values(announced_stage=stage).returning(Thread.id)
        .execution_options(synchronize_session=False)).first() is not None


def announce_stage(thread: Thread, stage: int, *, now: datetime) -> None:
    """Tell every member of the thread's cohort that a stage has opened, and the thread's
    open pages (in the caller's transaction, after its claim)."""
    cohort_id = thread.cohort_id
    title, body = _STAGE_NOTICES[stage]
    members = select(Membership.user_id).where(Membership.cohort_id == cohort_id)
    # One broadcast to the members' room when all of them are told (as releases do).
    size = get_session().scalar(select(func.count()).select_from(members.subquery()))
    notify("discussion_stage", members,
           dedupe_key=f"stage:{thread.id}:{stage}",
           title=title.format(title=thread.title, cohort=thread.cohort.name),
           body=body, target=Target(f"/threads/{thread.id}", cohort_id), now=now,
           audience=Audience(notice_room(cohort_id), size))
    live.thread_stage_event(thread.id, stage)


def announce_due_stages(*, now: datetime) -> int:
    """Announce, exactly once each, the stages that have opened by their dates (the stage job).

    Looks at the threads of released modules whose latest stage is not announced yet; each
    is claimed with one conditional UPDATE and announced in the claim's transaction. Only
    the latest open stage is announced (a thread that skipped one during an outage says
    only where it is now), and one that opened over ``STALE_ANNOUNCEMENT`` ago is claimed
    without a notice. Returns how many stages were announced.
    """
    rows = get_session().execute(
        select(Thread.id, Thread.respond_after_days, Thread.synthesize_after_days,
               Thread.close_after_days, Thread.advanced_stage, Thread.announced_stage,
               CohortModule.release_at, Cohort.timezone)
        .join(CohortModule, CohortModule.id == Thread.cohort_module_id)
        .join(Cohort, Cohort.id == Thread.cohort_id)
        .where(CohortModule.release_at <= now, Thread.announced_stage < CLOSED)
        .order_by(Thread.id)).all()
    announced = 0
    for row in rows:
        opens = stage_opens(row, row.release_at, row.timezone)
        stage = max(stage_by_date(opens, now), row.advanced_stage)
        if stage <= row.announced_stage:
            continue
        with transaction() as session:
            if not claim_stage(row.id, stage):
                continue
            if now - opens[stage] > STALE_ANNOUNCEMENT:
                continue
            thread = session.get(Thread, row.id)
            announce_stage(thread, stage, now=now)
            announced += 1
    return announced
