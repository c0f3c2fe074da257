"""Discussion rules: authoring a module's prompts, copying them into threads at launch, and
the prompt and thread parts that module pages show."""

from datetime import datetime
from functools import cache

from sqlalchemy import and_, bindparam, func, insert, select
from sqlalchemy.orm import aliased, defer

from app import audit
from app.accounts.models import User
from app.cohorts.access import CohortAccess, get_module_for
from app.cohorts.models import Cohort, CohortModule, Module
from app.cohorts.parts import Link, ModulePart
from app.cohorts.schedule import days_after
from app.db import get_session, lock_for_update, transaction, utcnow
from app.discussions.models import (
    CLOSED,
    PROMPT_DEFAULTS,
    PROMPT_SETTINGS,
    STAGES,
    Post,
    Prompt,
    Thread,
    ThreadParticipant,
)
from app.discussions.threads import STAGE_LABELS, current_stage, stage_opens
from app.errors import Invalid, NotFound
from app.text import one_line_problem

MAX_TITLE = 200
MAX_BODY = 50_000
MAX_STAGE_DAYS = 365
MAX_MIN_REPLIES = 20
STAGE_FIELDS = ("respond_after_days", "synthesize_after_days", "close_after_days")


# --- access ------------------------------------------------------------------------------------

def get_authoring_module(user: User, module_id: int) -> Module:
    """A module whose prompts the user may edit (see ``get_module_for``)."""
    return get_module_for(user, module_id)


def get_prompt_for(user: User, module_id: int, prompt_id: int) -> Prompt:
    """A prompt of a module the user may edit, else NotFound."""
    get_authoring_module(user, module_id)
    prompt = get_session().get(Prompt, prompt_id)
    if prompt is None or prompt.module_id != module_id:
        raise NotFound()
    return prompt


# --- validation --------------------------------------------------------------------------------

def _is_int(value) -> bool:
    """A whole number (``True`` is not one, even though Python says so)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _clean_prompt(*, title: str, body: str, anonymity_allowed: bool, respond_after_days: int,
                  synthesize_after_days: int, close_after_days: int,
                  min_replies: int) -> dict:
    """Check a prompt's fields; return them cleaned, or raise Invalid with every problem."""
    errors: dict[str, str] = {}
    title = (title or "").strip()
    if not title or len(title) > MAX_TITLE:
        errors["title"] = f"Give the prompt a title of 1 to {MAX_TITLE} characters."
    elif problem := one_line_problem(title):
        errors["title"] = problem
    body = body or ""
    if len(body) > MAX_BODY:
        errors["body"] = f"Keep the prompt under {MAX_BODY:,} characters."
    stages = {"respond_after_days": respond_after_days,
              "synthesize_after_days": synthesize_after_days,
              "close_after_days": close_after_days}
    for name, days in stages.items():
        if not _is_int(days) or not 0 <= days <= MAX_STAGE_DAYS:
            errors[name] = f"Use a whole number of days from 0 to {MAX_STAGE_DAYS}."
    if not any(name in errors for name in STAGE_FIELDS):
        if synthesize_after_days < respond_after_days:
            errors["synthesize_after_days"] = (
                "Synthesis cannot open before replies open; use a number of days at least "
                f"{respond_after_days}.")
        elif close_after_days < synthesize_after_days:
            errors["close_after_days"] = (
                "The discussion cannot close before synthesis opens; use a number of days "
                f"at least {synthesize_after_days}.")
    if not _is_int(min_replies) or not 0 <= min_replies <= MAX_MIN_REPLIES:
        errors["min_replies"] = f"Use a number of replies from 0 to {MAX_MIN_REPLIES}."
    if errors:
        raise Invalid(fields=errors)
    return {"title": title, "body": body, "anonymity_allowed": bool(anonymity_allowed),
            "min_replies": min_replies, **stages}


# --- authoring ---------------------------------------------------------------------------------

def add_prompt(user: User, module_id: int, *, title: str, body: str = "",
               **settings) -> Prompt:
    """Append a discussion prompt to a module of the user's program.

    ``settings`` are the prompt's other settings (``PROMPT_DEFAULTS`` names them); any left
    out take their default.
    """
    module = get_authoring_module(user, module_id)
    values = _clean_prompt(title=title, body=body, **{**PROMPT_DEFAULTS, **settings})
    with transaction() as session:
        lock_for_update(session, Module, module.id)  # positions are unique per module
        last = session.scalar(select(func.max(Prompt.position))
                              .where(Prompt.module_id == module.id))
        position = 0 if last is None else last + 1
        prompt = Prompt(module_id=module.id, position=position, **values)
        session.add(prompt)
        session.flush()
        audit.record(session, user.id, "prompt.created", target_type="prompt",
                     target_id=prompt.id, module_id=module.id, program_id=module.program_id)
    return prompt


def update_prompt(user: User, module_id: int, prompt_id: int, *, title: str, body: str,
                  **settings) -> Prompt:
    """Replace a prompt's text and settings (any left out take their default).

    Cohorts already launched keep the threads they copied.
    """
    prompt = get_prompt_for(user, module_id, prompt_id)
    values = _clean_prompt(title=title, body=body, **{**PROMPT_DEFAULTS, **settings})
    with transaction() as session:
        changed = sorted(name for name, value in values.items()
                         if getattr(prompt, name) != value)
        for name, value in values.items():
            setattr(prompt, name, value)
        audit.record(session, user.id, "prompt.updated", target_type="prompt",
                     target_id=prompt.id, module_id=module_id, changed=changed)
    return prompt


def delete_prompt(user: User, module_id: int, prompt_id: int) -> None:
    """Remove a prompt from its module; running cohorts keep their threads."""
    prompt = get_prompt_for(user, module_id, prompt_id)
    with transaction() as session:
        audit.record(session, user.id, "prompt.deleted", target_type="prompt",
                     target_id=prompt.id, module_id=module_id, title=prompt.title)
        session.delete(prompt)


def list_prompts(module_ids: list[int]) -> list[Prompt]:
    """The prompts of some program modules, by module and position (one query)."""
    if not module_ids:
        return []
    return list(get_session().scalars(
        select(Prompt).where(Prompt.module_id.in_(module_ids))
        .order_by(Prompt.module_id, Prompt.position)
    ))


# --- launch ------------------------------------------------------------------------------------

def copy_prompts_to_cohort(cohort: Cohort, modules: dict[int, int]) -> int:
    """Give a launching cohort one thread per prompt of its modules (the snapshot rule).

    ``modules`` maps program module ids to the cohort's module ids. Runs in the launch's
    transaction: one query reads every prompt, one bulk insert writes every thread.
    Returns how many threads were made.
    """
    if not modules:
        return 0
    prompts = list_prompts(list(modules))
    if prompts:
        get_session().execute(insert(Thread), [
            {"cohort_id": cohort.id, "cohort_module_id": modules[prompt.module_id],
             "prompt_id": prompt.id, "position": prompt.position, "created_at": utcnow(),
             **{name: getattr(prompt, name) for name in PROMPT_SETTINGS}}
            for prompt in prompts
        ])
    return len(prompts)


def on_cohort_launched(cohort: Cohort, *, modules: dict[int, int], **_kwargs) -> None:
    """Receiver of ``cohort_launched``: copy the program's prompts into the new cohort."""
    copy_prompts_to_cohort(cohort, modules)


# --- module parts ------------------------------------------------------------------------------

def _days(n: int) -> str:
    """'1 day', '3 days'."""
    return f"{n} day" if n == 1 else f"{n} days"


def _stage_fact(what: str, days: int) -> str:
    """'Replies open 2 days after the module opens' (or 'when the module opens')."""
    return (f"{what} when the module opens" if days == 0
            else f"{what} {_days(days)} after the module opens")


def _shared_facts(item: Prompt | Thread) -> list[str]:
    """Facts that hold for a prompt and for the threads copied from it."""
    facts = []
    if item.min_replies:
        peers = "peer" if item.min_replies == 1 else "peers"
        facts.append(f"Reply to at least {item.min_replies} {peers}")
    facts.append("Anonymous posting allowed" if item.anonymity_allowed
                 else "Names always shown")
    return facts


def thread_dates(thread: Thread, release_at: datetime,
                 zone: str) -> tuple[tuple[str, datetime], ...]:
    """When a thread's stages open, counted in local days from its module's release."""
    return (
        ("Replies open", days_after(release_at, thread.respond_after_days, zone)),
        ("Synthesis opens", days_after(release_at, thread.synthesize_after_days, zone)),
        ("Closes", days_after(release_at, thread.close_after_days, zone)),
    )


@cache
def _cohort_threads_statement():
    """The threads of some cohort modules (``module_ids``) with one viewer's (``user_id``)
    place in each — when they posted their reflection — and how many posts by others are
    newer than the last one they were shown, in one statement (built once: pages ask for it
    on every view)."""
    viewer = bindparam("user_id")
    in_modules = Thread.cohort_module_id.in_(bindparam("module_ids", expanding=True))
    seen = aliased(ThreadParticipant)
    unread = (
        select(Post.thread_id, func.count(Post.id).label("unread"))
        .join(Thread, Thread.id == Post.thread_id)
        .outerjoin(seen, and_(seen.thread_id == Post.thread_id, seen.user_id == viewer))
        .where(in_modules, Post.id > func.coalesce(seen.last_seen_post_id, 0),
               Post.author_id != viewer, Post.deleted_at.is_(None), Post.hidden_at.is_(None))
        .group_by(Post.thread_id)
        .subquery())
    mine = aliased(ThreadParticipant)
    return (select(Thread, mine.posted_at, unread.c.unread)
            .outerjoin(mine, and_(mine.thread_id == Thread.id, mine.user_id == viewer))
            .outerjoin(unread, unread.c.thread_id == Thread.id)
            .where(in_modules)
            .options(defer(Thread.body))  # pages show the stored HTML
            .order_by(Thread.cohort_module_id, Thread.position))


def _new_posts(count: int) -> str:
    """'No new posts', '1 new post', '3 new posts'."""
    if count == 0:
        return "No new posts"
    return "1 new post" if count == 1 else f"{count} new posts"


def _stage_now(viewer: CohortAccess, thread: Thread, module: CohortModule,
               now: datetime) -> int | None:
    """The thread's stage now, or None before the module's release (only staff see those
    threads)."""
    if not module.is_released(now):
        return None
    return current_stage(thread, stage_opens(thread, module.release_at, viewer.cohort.timezone),
                         now)


def _must_post(viewer: CohortAccess, posted_at: datetime | None, stage: int | None) -> bool:
    """A learner who has not posted while the thread is open is asked to (post first)."""
    return (stage is not None and stage < CLOSED and not viewer.is_staff
            and posted_at is None)


def _viewer_facts(viewer: CohortAccess, posted_at: datetime | None, unread: int,
                  stage: int | None) -> tuple[str, ...]:
    """What a thread means for this viewer now: a learner who has not posted is asked to
    (post first: no count that reveals peers' posts); anyone else gets their unread posts
    and the stage. Nothing before the module's release."""
    if stage is None:
        return ()
    if _must_post(viewer, posted_at, stage):
        return ("Post your reflection to see your peers'",)
    if not viewer.is_staff and posted_at is None:
        return (f"Stage: {STAGE_LABELS['closed']}",)
    return (_new_posts(unread), f"Stage: {STAGE_LABELS[STAGES[stage]]}")


class DiscussionParts:
    """Prompts on program modules and threads on cohort modules, for module pages."""

    def parts_of_modules(self, modules: list[Module]) -> list[ModulePart]:
        """Each prompt with its stage offsets, linking to its edit page."""
        return [
            ModulePart(
                kind="prompt", id=prompt.id, module_id=prompt.module_id,
                position=prompt.position, title=prompt.title, body_html=prompt.body_html,
                link=Link.to("discussions.edit_prompt", module_id=prompt.module_id,
                             prompt_id=prompt.id),
                facts=(_stage_fact("Replies open", prompt.respond_after_days),
                       _stage_fact("Synthesis opens", prompt.synthesize_after_days),
                       _stage_fact("Closes", prompt.close_after_days),
                       *_shared_facts(prompt)),
            )
            for prompt in list_prompts([m.id for m in modules])
        ]

    def parts_of_cohort_modules(self, viewer: CohortAccess,
                                modules: list[CohortModule]) -> list[ModulePart]:
        """Each thread of the cohort's modules, with its stage dates in the cohort's zone."""
        return self.parts_of_many_cohorts([(viewer, modules)])

    def parts_of_many_cohorts(self, groups: list[tuple[CohortAccess, list[CohortModule]]]
                              ) -> list[ModulePart]:
        """Threads of several cohorts' modules in one query, each with what it means for
        the viewer (one person in every group) at the moment of asking: the part interface
        carries no clock, so the stage is worked out at ``utcnow()``."""
        placed = {m.id: (viewer, m) for viewer, modules in groups for m in modules}
        if not placed:
            return []
        rows = get_session().execute(_cohort_threads_statement(), {
            "module_ids": list(placed), "user_id": groups[0][0].user.id}).all()
        now = utcnow()
        parts = []
        for thread, posted_at, unread in rows:
            viewer, module = placed[thread.cohort_module_id]
            stage = _stage_now(viewer, thread, module, now)
            parts.append(ModulePart(
                kind="thread", id=thread.id, module_id=thread.cohort_module_id,
                position=thread.position, title=thread.title, body_html=thread.body_html,
                link=Link.to("threads.thread", thread_id=thread.id),
                facts=(*_viewer_facts(viewer, posted_at, unread or 0, stage),
                       *_shared_facts(thread)),
                todo="Post your reflection" if _must_post(viewer, posted_at, stage) else None,
                dates=thread_dates(thread, module.release_at, viewer.cohort.timezone),
            ))
        return parts


provider = DiscussionParts()
