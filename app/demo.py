"""The demo: users for each role, a program and a running cohort. Idempotent."""

import contextlib
from datetime import timedelta

from sqlalchemy import select

from app.accounts.models import User
from app.accounts.services import hash_password
from app.cohorts.authoring import add_module, create_program, launch_cohort
from app.cohorts.models import Cohort, Program
from app.cohorts.releases import release_due_modules
from app.cohorts.roster import add_member
from app.db import get_session, transaction, utcnow
from app.discussions import services as discussions
from app.errors import Conflict
from app.peer_review import services as peer_review

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
#: (title, Markdown content, release offset in days, discussion prompt (title, body))
MODULES = [
    ("Why feedback matters",
     "Feedback is how we find out what our work does to other people.\n\n"
     "This week we look at **what makes feedback land** and what makes it sting:\n\n"
     "- feedback about *behaviour* can be used; feedback about *character* can only hurt;\n"
     "- specific beats general: \"the second slide lost me\" beats \"it was confusing\";\n"
     "- timing matters: soon after the moment, in private, when the other person can listen.\n\n"
     "Read the notes, then share one piece of feedback that changed how you work.",
     0, ("Feedback that changed how you work",
         "Think of one piece of feedback that changed how you work. What was said, by whom, "
         "and why did it land?")),
    ("Asking for feedback",
     "Most useful feedback is asked for. A good request is **specific** (\"how did my "
     "opening land?\"), **timely** (right after the meeting) and **safe to answer** (you "
     "thank the person, whatever they say).\n\n"
     "1. Pick one thing you did this week that others saw.\n"
     "2. Write the question you would ask about it.\n"
     "3. Ask it — and notice how it feels.",
     7, ("What stops us asking?",
         "What makes asking for feedback hard for you, or in our team? Name one thing that "
         "would make it easier.")),
    ("Giving kind, specific feedback",
     "**Situation, behaviour, impact** (SBI) keeps feedback about what happened:\n\n"
     "> *In Tuesday's planning meeting* (situation) *you summarised each option before we "
     "voted* (behaviour), *so the new people could follow and join in* (impact).\n\n"
     "It works for praise and for criticism alike. Kind is not the same as vague.",
     14, ("Rewrite a piece of vague feedback",
          "Take a piece of vague feedback (\"good job\", \"be more proactive\") and "
          "rewrite it with situation, behaviour and impact.")),
    ("Receiving feedback well",
     "Hearing feedback is a skill too. Listen to the end, ask one clarifying question, say "
     "thank you, and decide **later** what to do with it.\n\n"
     "Notice your first reaction: defending, explaining, or shutting down. Each is normal; "
     "none has to be your answer.",
     21, ("Your first reaction",
          "When you hear critical feedback, what is your first reaction? What helps you get "
          "past it?")),
    ("Feedback across a team",
     "A team where feedback flows needs **psychological safety**: people believe they will "
     "not be punished or humiliated for speaking up.\n\n"
     "Leaders build it by asking first, thanking people for bad news and admitting their own "
     "mistakes.",
     28, ("A safe team you were part of",
          "Describe a team where it felt safe to speak up. What did people do that made it "
          "so?")),
    ("Making it a habit",
     "Pick **one feedback habit** to keep after this program — a weekly question to your "
     "team, a retro ritual, a note after each presentation — and tell the cohort, so we can "
     "ask each other about it in a month.",
     35, ("The habit I am keeping",
          "Which one habit will you keep, and how will you know in a month whether you "
          "kept it?")),
]
#: The practice assignment of the second module, with its rubric.
ASSIGNMENT = {
    "title": "Write a feedback request",
    "instructions": (
        "Write the message you will send to a colleague to ask for feedback on one specific "
        "piece of your recent work. Say what you want feedback on, why, and by when."),
    "rubric": [
        {"title": "Specific", "description": "Names one piece of work and one question.",
         "levels": [{"label": "Vague", "points": 0}, {"label": "Partly specific", "points": 1},
                    {"label": "Clear and specific", "points": 2}]},
        {"title": "Safe to answer", "description": "Makes honest feedback easy to give.",
         "levels": [{"label": "Not yet", "points": 0}, {"label": "Somewhat", "points": 1},
                    {"label": "Inviting", "points": 2}]},
    ],
    "reviews_required": 2,
}
ASSIGNMENT_MODULE = 1


def _ensure_user(email: str, name: str, flags: dict) -> User:
    """Create a demo user once, with the demo password."""
    session = get_session()
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, name=name, password_hash=hash_password(DEMO_PASSWORD),
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
            program = create_program(
                owner, title=DEMO_PROGRAM,
                summary="A six-week program on asking for, giving and using feedback.",
                goals=["Ask for feedback", "Give specific, kind feedback", "Psychological safety"],
                now=now)
            for position, (title, body, offset, (prompt_title, prompt_body)) in enumerate(
                    MODULES):
                module = add_module(owner, program.id, title=title, body=body,
                                    release_offset_days=offset)
                discussions.add_prompt(owner, module.id, title=prompt_title, body=prompt_body)
                if position == ASSIGNMENT_MODULE:
                    peer_review.add_assignment(owner, module.id, **ASSIGNMENT)
        cohort = session.scalar(select(Cohort).where(Cohort.program_id == program.id,
                                                     Cohort.name == DEMO_COHORT))
        if cohort is None:
            cohort = launch_cohort(
                owner, program.id, name=DEMO_COHORT, starts_on=(now - timedelta(days=14)).date(),
                timezone="Europe/London", anonymity="peers", now=now)
        for email, _, role, _ in USERS:
            if role in ("facilitator", "learner"):
                with contextlib.suppress(Conflict):  # already enrolled by an earlier seed
                    add_member(owner, cohort.id, email=email, role=role, now=now)
    # Releases whose time has passed (the cohort started two weeks ago) happen now.
    release_due_modules(now=now)
    return [(email, role) for email, _, role, _ in USERS]
