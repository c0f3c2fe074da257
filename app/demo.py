"""The demo: users for each role, a program, a running cohort and its first discussions.

Everything happens at its own moment of the cohort's first two weeks (people join on
different days, modules open on theirs, posts and reviews follow), so inboxes, the roster
and the triage inbox look lived in. Idempotent: a second run only adds what is missing."""

import contextlib
from datetime import timedelta

from sqlalchemy import func, select

from app.accounts.models import User
from app.accounts.services import hash_password
from app.cohorts import community
from app.cohorts.authoring import add_module, create_program, launch_cohort
from app.cohorts.models import Announcement, Cohort, CohortModule, Membership, Program
from app.cohorts.releases import release_due_modules, release_module
from app.cohorts.roster import add_member
from app.db import get_session, transaction, utcnow
from app.discussions import posting
from app.discussions import services as discussions
from app.discussions.models import Post, Thread
from app.errors import Conflict
from app.peer_review import results, reviewing, submitting
from app.peer_review import services as peer_review
from app.peer_review.models import CohortAssignment, RubricCriterion
from app.peer_review.work_models import Submission

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
#: When each member joined, in days after the first module opened (an hour before it, on
#: day 0), and when they were last active, in days before the seed: most are active, two
#: have not been back for over a week (the triage inbox's silent learners), and learners
#: 6 to 8 joined later, when the first module had been open for days.
MEMBERS = {
    "facilitator@demo.test": (0, 0),
    "learner1@demo.test": (0, 0), "learner2@demo.test": (0, 1), "learner3@demo.test": (0, 0),
    "learner4@demo.test": (1, 2), "learner5@demo.test": (1, 4), "learner6@demo.test": (3, 11),
    "learner7@demo.test": (6, 8), "learner8@demo.test": (9, 1),
}
#: (title, Markdown content, release offset in days, discussion prompt (title, body, and
#: stage offsets where they differ from the defaults))
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
         "and why did it land?",
         # Three weeks to talk it through: the cohort started two weeks ago, so the demo
         # shows this discussion in its synthesis stage.
         {"respond_after_days": 2, "synthesize_after_days": 10, "close_after_days": 21})),
    ("Asking for feedback",
     "Most useful feedback is asked for. A good request is **specific** (\"how did my "
     "opening land?\"), **timely** (right after the meeting) and **safe to answer** (you "
     "thank the person, whatever they say).\n\n"
     "1. Pick one thing you did this week that others saw.\n"
     "2. Write the question you would ask about it.\n"
     "3. Ask it — and notice how it feels.",
     7, ("What stops us asking?",
         "What makes asking for feedback hard for you, or in our team? Name one thing that "
         "would make it easier.",
         # Released a week ago: replies are open in the demo whatever the hour.
         {"respond_after_days": 2, "synthesize_after_days": 10, "close_after_days": 14})),
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
    # Released a week ago: submissions are due in three days, reviews five days later.
    "submit_days": 10,
    "review_days": 5,
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
            for position, (title, body, offset, (prompt_title, prompt_body, *stages)) in \
                    enumerate(MODULES):
                module = add_module(owner, program.id, title=title, body=body,
                                    release_offset_days=offset)
                discussions.add_prompt(owner, module.id, title=prompt_title, body=prompt_body,
                                       **(stages[0] if stages else {}))
                if position == ASSIGNMENT_MODULE:
                    peer_review.add_assignment(owner, module.id, **ASSIGNMENT)
        cohort = session.scalar(select(Cohort).where(Cohort.program_id == program.id,
                                                     Cohort.name == DEMO_COHORT))
        if cohort is None:
            cohort = launch_cohort(
                owner, program.id, name=DEMO_COHORT, starts_on=(now - timedelta(days=14)).date(),
                timezone="Europe/London", anonymity="peers", now=now)
    seed_timeline(cohort.id, users, now)
    # Anything else due (another cohort's releases) happens now, as the scheduler would.
    release_due_modules(now=now)
    seed_discussions(cohort.id, users)
    seed_reviews(cohort.id, users)
    seed_community(users)
    seed_activity(cohort.id, users, now)
    return [(email, role) for email, _, role, _ in USERS]


def seed_timeline(cohort_id: int, users: dict[str, User], now) -> None:
    """Enrol the members, open the modules whose time has come and post the announcements,
    in the order they happened, each at its own moment: members are told only of what
    happened after they joined, and every notification is stamped with the moment it was
    sent. A member already enrolled and a module already open are left alone; so are the
    announcements of a cohort that has any."""
    session = get_session()
    owner = users["owner@demo.test"]
    modules = session.execute(
        select(CohortModule.id, CohortModule.release_at)
        .where(CohortModule.cohort_id == cohort_id).order_by(CohortModule.position)).all()
    first_opens = modules[0].release_at
    roles = {email: role for email, _, role, _ in USERS}
    events = [(first_opens + timedelta(days=days, hours=-1), "join", email)
              for email, (days, _) in MEMBERS.items()]
    events += [(release_at, "open", module_id) for module_id, release_at in modules
               if release_at <= now]
    if not session.scalar(select(func.count(Announcement.id))
                          .where(Announcement.cohort_id == cohort_id)):
        events += [(first_opens + timedelta(days=days, minutes=-30), "announce", position)
                   for position, (_, days, *_) in enumerate(ANNOUNCEMENTS)]
    for moment, what, which in sorted(events, key=lambda event: event[0]):
        if what == "open":
            release_module(which, now=moment)
            continue
        if what == "announce":
            email, _, pinned, title, body = ANNOUNCEMENTS[which]
            announcement = community.post_announcement(users[email], cohort_id, title=title,
                                                       body=body, now=min(moment, now))
            if pinned:
                community.set_announcement_pinned(users[email], cohort_id, announcement.id,
                                                  pinned=True)
            continue
        with contextlib.suppress(Conflict):  # already enrolled by an earlier seed
            add_member(owner, cohort_id, email=which, role=roles[which], now=min(moment, now))


def seed_activity(cohort_id: int, users: dict[str, User], now) -> None:
    """Each member's last activity, as the roster and the triage inbox show it (only where
    none is recorded yet: a real visit, or an earlier seed, wins). Visits are left unset,
    so every demo login still gets the cohort's welcome."""
    with transaction() as session:
        for membership in session.scalars(select(Membership).where(
                Membership.cohort_id == cohort_id, Membership.last_active_at.is_(None))):
            email = membership.user.email
            if email not in MEMBERS:
                continue
            active = now - timedelta(days=MEMBERS[email][1], hours=2)
            membership.last_active_at = max(active, membership.joined_at + timedelta(hours=1))


# --- the cohort as a community ------------------------------------------------------------

#: One-line intros of a few demo people (the others leave theirs empty, as many do).
INTROS = {
    "owner@demo.test": "I design our learning programs; ask me anything about this one.",
    "facilitator@demo.test": "Facilitator and former team lead. I read every reflection.",
    "learner1@demo.test": "Product designer in Leeds, here to get better at design critiques.",
    "learner3@demo.test": "New team lead: I want my one-to-ones to be useful for both of us.",
}
#: Announcements: (author's e-mail, days after the first module opened (posted half an hour
#: before that hour of the day), pinned, title, Markdown).
ANNOUNCEMENTS = [
    ("owner@demo.test", 0, True, "Welcome to the Autumn cohort",
     "Welcome, everyone! Each Monday a module opens; read it when it suits you and share a "
     "reflection in its discussion.\n\n- **Post first**: you see your peers' reflections "
     "once you have shared yours.\n- Where the prompt allows it you can post anonymously."),
    ("facilitator@demo.test", 12, False, "Office hours on Thursday",
     "I am online on **Thursday from 12:00 to 13:00** (London time) for questions about the "
     "practice assignment. No need to book: just drop in."),
]


def seed_community(users: dict[str, User]) -> None:
    """Intros for a few people (the announcements are posted on the cohort's timeline, see
    :func:`seed_timeline`, through the service, so members are notified)."""
    with transaction():
        for email, intro in INTROS.items():
            if not users[email].intro:
                users[email].intro = intro


# --- posts in the first two discussions --------------------------------------------------

#: A post: (key, author's e-mail, hours after the module's release, anonymous, Markdown,
#: key of the post it replies to or None). Learners 6 to 8 have not posted in the second
#: discussion, so signing in as one of them shows post first from the other side.
FIRST_DISCUSSION = [
    ("note", "facilitator@demo.test", 3, False,
     "Welcome! Take your time with this one. Short is fine: what was said, who said it, "
     "and what you did differently afterwards.", None),
    ("lena", "learner1@demo.test", 22, False,
     "In my first month a colleague told me, after a client call: *\"you answered the "
     "question you expected, not the one they asked.\"* It stung, but she was right. I "
     "now repeat the client's question back before I answer it.", None),
    ("marco", "learner2@demo.test", 26, True,
     "My manager once said my status reports were *\"complete but unreadable\"*. I was "
     "embarrassed for a day. Since then every report starts with three lines: what "
     "changed, what is at risk, what I need.", None),
    ("priya", "learner3@demo.test", 31, False,
     "The feedback that changed me most was about silence. A senior engineer noticed I "
     "never spoke in design reviews and asked me, privately, to bring **one** question to "
     "the next one. One question became a habit.", None),
    ("tomas", "learner4@demo.test", 40, True,
     "Someone told me that my code reviews read as orders. I had never thought about "
     "tone in a review. I now write *\"what do you think about…\"* instead of "
     "*\"change this to…\"*, and the discussions got better.", None),
    ("yuki", "learner5@demo.test", 45, False,
     "A mentor said I apologised before every idea. Once I noticed it I could not stop "
     "noticing it. Dropping the \"sorry, this might be stupid, but\" made people listen "
     "to the idea instead of the apology.", None),
    ("priya-lena", "learner3@demo.test", 52, False,
     "Repeating the question back is such a simple check. Do you do it in writing too?",
     "lena"),
    ("lena-priya", "learner1@demo.test", 60, False,
     "Yes, in e-mails I start with \"You asked whether…\". Your one-question habit is "
     "something I want to try in our planning meetings.", "priya"),
    ("lena-marco", "learner1@demo.test", 62, False,
     "Three lines at the top is a great rule. I am stealing it for my weekly update.",
     "marco"),
    ("marco-priya", "learner2@demo.test", 70, True,
     "The private ask is the key part, I think. Being put on the spot in the meeting "
     "would have had the opposite effect.", "priya"),
    ("yuki-tomas", "learner5@demo.test", 75, False,
     "Asking instead of telling works in reviews of documents too. Thanks for sharing "
     "this.", "tomas"),
    ("tomas-yuki", "learner4@demo.test", 80, True,
     "I apologise before ideas too. Going to count how often this week.", "yuki"),
    ("synthesis", "facilitator@demo.test", 10 * 24 + 2, False,
     "**What we noticed together:** the feedback that changed how we work was *specific* "
     "(a question, a report, a habit), often *given in private*, and came with something "
     "to try. Several of you turned it straight into a small rule. Keep those rules in "
     "mind for week 3, when we write feedback ourselves.", None),
    ("lena-take-away", "learner1@demo.test", 10 * 24 + 20, False,
     "My take-away: feedback lands when it names one thing I did and leaves me something "
     "to try. I will ask for it that way too.", None),
]
#: Reactions: (author's e-mail, key of the post, kind, hours after release).
FIRST_REACTIONS = [
    ("learner2@demo.test", "lena", "insightful", 30), ("learner3@demo.test", "lena", "thanks", 33),
    ("learner1@demo.test", "priya", "insightful", 50), ("learner5@demo.test", "priya",
                                                        "insightful", 51),
    ("learner4@demo.test", "synthesis", "thanks", 10 * 24 + 5),
]
SECOND_DISCUSSION = [
    ("lena", "learner1@demo.test", 20, False,
     "Honestly: I am afraid the answer will be \"it was fine\", which tells me nothing. "
     "What would help is asking a narrower question, like *\"was the second half too "
     "long?\"*", None),
    ("marco", "learner2@demo.test", 25, True,
     "In our team asking for feedback feels like admitting you are unsure. If leads asked "
     "for feedback on their own work first, it would feel normal.", None),
    ("priya", "learner3@demo.test", 29, True,
     "Time. Everyone is busy, and asking feels like giving people homework. A two-minute "
     "form after a demo might lower the cost.", None),
    ("tomas", "learner4@demo.test", 33, False,
     "I do not know whom to ask. The people who saw my work are not always the people I "
     "feel safe with.", None),
    ("priya-lena", "learner3@demo.test", 55, True,
     "A narrow question is also easier to answer honestly. \"Was it fine?\" invites "
     "politeness.", "lena"),
    ("lena-marco", "learner1@demo.test", 60, False,
     "Leads going first would change a lot. Could we suggest it at the next retro?",
     "marco"),
]
SECOND_REACTIONS = [
    ("learner4@demo.test", "marco", "insightful", 40), ("learner1@demo.test", "priya",
                                                        "thanks", 50),
]


def seed_discussions(cohort_id: int, users: dict[str, User]) -> None:
    """Posts, replies and reactions in the first two discussions of the demo cohort, each
    written through the posting services at its own moment after the module's release (so
    stages and gates apply as they would have). A discussion with posts is left alone."""
    session = get_session()
    threads = session.execute(
        select(Thread, CohortModule.release_at)
        .join(CohortModule, CohortModule.id == Thread.cohort_module_id)
        .where(Thread.cohort_id == cohort_id).order_by(CohortModule.position, Thread.position)
    ).all()[:2]
    for (thread, release_at), posts, reactions in zip(
            threads, (FIRST_DISCUSSION, SECOND_DISCUSSION),
            (FIRST_REACTIONS, SECOND_REACTIONS), strict=False):
        if session.scalar(select(func.count(Post.id)).where(Post.thread_id == thread.id)):
            continue
        made: dict[str, int] = {}
        for key, email, hours, anonymous, body, replies_to in posts:
            view = posting.create_post(
                users[email], thread.id, body=body, anonymous=anonymous,
                parent_id=made[replies_to] if replies_to else None,
                now=release_at + timedelta(hours=hours))
            made[key] = view.id
        for email, key, kind, hours in reactions:
            posting.react(users[email], made[key], kind, on=True,
                          now=release_at + timedelta(hours=hours))


# --- practice work and peer reviews ------------------------------------------------------

#: Submissions: (author's e-mail, hours after the module's release, Markdown). Learners 6 to
#: 8 have not submitted yet.
SUBMISSIONS = [
    ("learner1@demo.test", 20, "Hi Sam, could you give me feedback on **the opening three "
     "minutes** of Tuesday's client demo? I want to know whether the problem statement was "
     "clear before I showed the product. Anything you say helps; a sentence by Friday is "
     "plenty."),
    ("learner2@demo.test", 26, "Dear team, please send me feedback on my quarterly report "
     "when you can."),
    ("learner3@demo.test", 30, "Hey Ana, I am trying to get better at running retros. Could "
     "you tell me **one thing that worked and one thing to change** in yesterday's retro? "
     "I'll thank you either way, and I'll share what I change."),
    ("learner4@demo.test", 44, "Jo, would you look at the onboarding checklist I drafted "
     "and tell me which step new starters are most likely to skip? By Thursday if you can."),
    ("learner5@demo.test", 50, "Could you tell me how my update in the all-hands came "
     "across? I'd like to know if the numbers were easy to follow."),
]
#: Reviews, in order: (reviewer's e-mail, hours after the release, levels (Specific, Safe to
#: answer) as points, overall comment, state). "held" is submitted unchanged after the
#: kindness nudge, so it waits for the facilitator; "draft" is left unfinished.
REVIEWS = [
    ("learner1@demo.test", 52, (1, 2), "You ask kindly and give a date. Naming **one section** "
     "of the report would make it easier to answer in a few minutes.", "submitted"),
    ("learner1@demo.test", 54, (2, 2), "Very specific, and \"I'll thank you either way\" "
     "makes it safe to be honest. I would send this as it is.", "submitted"),
    ("learner2@demo.test", 60, (2, 1), "Clear question and a date. Maybe say why the "
     "opening matters to you, so Sam knows what to listen for.", "submitted"),
    ("learner3@demo.test", 70, (0, 0), "This is useless, you never say what you want.",
     "held"),
    ("learner4@demo.test", 80, (1, 1), "", "draft"),
]


def seed_reviews(cohort_id: int, users: dict[str, User]) -> None:
    """Submissions and reviews on the demo cohort's assignment, each made through the
    services at its own moment after the module's release: reviews given and rated, one
    held by the kindness check, one unfinished, and work still short of reviews. An
    assignment with submissions is left alone."""
    session = get_session()
    row = session.execute(
        select(CohortAssignment.id, CohortModule.release_at)
        .join(CohortModule, CohortModule.id == CohortAssignment.cohort_module_id)
        .where(CohortAssignment.cohort_id == cohort_id)).first()
    if row is None or session.scalar(select(func.count(Submission.id)).where(
            Submission.cohort_assignment_id == row.id)):
        return
    assignment_id, release_at = row
    for email, hours, body in SUBMISSIONS:
        submitting.submit_work(users[email], assignment_id, body=body,
                               now=release_at + timedelta(hours=hours))
    criteria = session.scalars(
        select(RubricCriterion.id).join(CohortAssignment,
                                        CohortAssignment.rubric_id == RubricCriterion.rubric_id)
        .where(CohortAssignment.id == assignment_id).order_by(RubricCriterion.position)).all()
    for email, hours, points, comment, state in REVIEWS:
        moment = release_at + timedelta(hours=hours)
        review = reviewing.request_review(users[email], assignment_id, now=moment)
        scores = dict(zip(criteria, points, strict=True))
        reviewing.save_review(users[email], review.id, scores=scores, comment=comment,
                              submit=state != "draft", submit_anyway=state == "held",
                              now=moment)
    # Lena has done her two reviews, so she reads hers and rates the one she got.
    lena = users["learner1@demo.test"]
    view = results.get_submission_view(lena, session.scalar(
        select(Submission.id).where(Submission.cohort_assignment_id == assignment_id,
                                    Submission.author_id == lena.id)),
        now=release_at + timedelta(hours=90))
    for review in view.reviews:
        results.rate_review(lena, review.id, helpfulness=5,
                            comment="Good point about the why: I added it.",
                            now=release_at + timedelta(hours=90))
