"""Discussion prompts (part of a program's module) and their threads (one per cohort)."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Model, columns_of, utcnow
from app.sanitize import keep_rendered

#: A new prompt's settings when its author leaves them out (forms, API and services read
#: these): stage offsets in days after the module's release, and replies before synthesis.
PROMPT_DEFAULTS = {"anonymity_allowed": True, "respond_after_days": 2,
                   "synthesize_after_days": 5, "close_after_days": 7, "min_replies": 2}

#: Stage offsets must keep the stages in order: reflect, respond, synthesize, closed.
_STAGES_IN_ORDER = (
    "respond_after_days >= 0 AND synthesize_after_days >= respond_after_days"
    " AND close_after_days >= synthesize_after_days"
)


class PromptSettings:
    """What a prompt says and how its discussion runs: the columns a thread copies at launch.

    Prompt and Thread both declare them through this mixin, and the copy takes every column
    listed here, so a new setting is added in this one place.
    """

    title: Mapped[str] = mapped_column(String(200))
    #: Markdown as written by the owner.
    body: Mapped[str] = mapped_column(Text, default="")
    #: ``body`` cleaned into HTML when it is written (app.sanitize); pages show this.
    body_html: Mapped[str] = mapped_column(Text, default="")
    #: Whether learners may post anonymously (where the cohort's policy allows it at all).
    anonymity_allowed: Mapped[bool] = mapped_column(
        default=PROMPT_DEFAULTS["anonymity_allowed"])
    #: Days after the module's release at which each stage opens (reflect opens at release).
    respond_after_days: Mapped[int] = mapped_column(
        default=PROMPT_DEFAULTS["respond_after_days"])
    synthesize_after_days: Mapped[int] = mapped_column(
        default=PROMPT_DEFAULTS["synthesize_after_days"])
    close_after_days: Mapped[int] = mapped_column(default=PROMPT_DEFAULTS["close_after_days"])
    #: Replies to peers a learner gives before their own synthesis opens.
    min_replies: Mapped[int] = mapped_column(default=PROMPT_DEFAULTS["min_replies"])


#: The settings a thread copies from its prompt.
PROMPT_SETTINGS = columns_of(PromptSettings)


class Prompt(PromptSettings, Model):
    """A discussion prompt of a program module (the template each cohort's thread copies)."""

    __tablename__ = "prompts"
    __table_args__ = (
        UniqueConstraint("module_id", "position"),
        CheckConstraint(_STAGES_IN_ORDER, name="stages_in_order"),
        CheckConstraint("min_replies >= 0", name="min_replies_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id", ondelete="CASCADE"))
    position: Mapped[int]


class Thread(PromptSettings, Model):
    """A prompt as one cohort discusses it: copied at launch, never rewritten by later edits."""

    __tablename__ = "threads"
    __table_args__ = (
        UniqueConstraint("cohort_module_id", "position"),
        CheckConstraint(_STAGES_IN_ORDER, name="stages_in_order"),
        CheckConstraint("min_replies >= 0", name="min_replies_not_negative"),
        Index("ix_threads_cohort_id", "cohort_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    cohort_module_id: Mapped[int] = mapped_column(
        ForeignKey("cohort_modules.id", ondelete="CASCADE"))
    #: The prompt it was copied from (may be deleted from the program later).
    prompt_id: Mapped[int | None] = mapped_column(ForeignKey("prompts.id", ondelete="SET NULL"))
    position: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The stage a facilitator advanced the thread to (an index of STAGES); the thread is
    #: in the later of this and the stage its dates give.
    advanced_stage: Mapped[int] = mapped_column(default=0, server_default="0")
    #: The latest stage whose opening has been announced (once each, by the stage job or
    #: by the facilitator who advanced it).
    announced_stage: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Set while a facilitator has locked the thread: learners read but cannot post.
    locked_at: Mapped[datetime | None]
    locked_reason: Mapped[str | None] = mapped_column(String(500))
    #: Learners who have posted their reflection ("N peers have posted").
    reflection_count: Mapped[int] = mapped_column(default=0, server_default="0")

    cohort: Mapped["Cohort"] = relationship()  # noqa: F821 (app.cohorts.models)
    cohort_module: Mapped["CohortModule"] = relationship()  # noqa: F821


#: A thread's stages in order; a thread's stage is an index into this tuple.
STAGES = ("reflect", "respond", "synthesize", "closed")
REFLECT, RESPOND, SYNTHESIZE, CLOSED = range(4)

#: Kinds of post: a learner's reflection (one each), a reply under a top-level post, and a
#: synthesis or take-away (staff post top-level "reflection" posts before synthesis).
POST_KINDS = ("reflection", "reply", "synthesis")
#: What members may react with; posts keep a count of each, never a list of names.
REACTIONS = ("insightful", "thanks")


class ThreadParticipant(Model):
    """One person in one thread: whether they have posted (post first), their replies to
    peers, their pseudonym there and what they have read."""

    __tablename__ = "thread_participants"
    __table_args__ = (UniqueConstraint("thread_id", "user_id"),
                      UniqueConstraint("thread_id", "pseudonym"))

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    #: When their reflection was first posted: from then on they see their peers' posts.
    posted_at: Mapped[datetime | None]
    #: Replies given to other people's posts (not counting deleted ones).
    replies_given: Mapped[int] = mapped_column(default=0)
    #: Their name on anonymous posts in this thread, given on their first such post.
    pseudonym: Mapped[str | None] = mapped_column(String(64))
    #: The newest post they have been shown (unread counts start after it).
    last_seen_post_id: Mapped[int] = mapped_column(default=0)


class Post(Model):
    """A reflection, reply or synthesis in a thread. Never removed: deleting and hiding are
    marks, so replies keep their place and moderation can be undone."""

    __tablename__ = "posts"
    __table_args__ = (
        CheckConstraint("kind IN ('reflection', 'reply', 'synthesis')", name="kind"),
        CheckConstraint("anonymity IN ('off', 'peers', 'everyone')", name="anonymity"),
        Index("ix_posts_thread_id_id", "thread_id", "id"),
        Index("ix_posts_author_id", "author_id"),
        Index("ix_posts_parent_id", "parent_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"),
                                           index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: The top-level post a reply sits under (replies are one level deep).
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    #: ``body`` cleaned into HTML when it is written (app.sanitize).
    body_html: Mapped[str] = mapped_column(Text, default="")
    #: "off" for a named post; otherwise the anonymity policy it was written under. The
    #: post is presented under the stronger of this and the cohort's current policy.
    anonymity: Mapped[str] = mapped_column(String(16), default="off")
    #: The author's pseudonym in this thread, for anonymous posts ("" otherwise).
    pseudonym: Mapped[str] = mapped_column(String(64), default="")
    #: Written by a facilitator or the program's owner.
    by_staff: Mapped[bool] = mapped_column(default=False)
    #: Bumped by every edit; an edit must name the version it started from.
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    #: Hidden by a facilitator (with a reason the author sees) or by members' flags.
    hidden_at: Mapped[datetime | None]
    hidden_reason: Mapped[str] = mapped_column(String(500), default="")
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                ondelete="SET NULL"))
    flag_count: Mapped[int] = mapped_column(default=0)
    pinned: Mapped[bool] = mapped_column(default=False)
    highlighted: Mapped[bool] = mapped_column(default=False)
    insightful_count: Mapped[int] = mapped_column(default=0)
    thanks_count: Mapped[int] = mapped_column(default=0)

    @property
    def is_anonymous(self) -> bool:
        """Written under a pseudonym."""
        return self.anonymity != "off"


class PostRevision(Model):
    """An earlier text of an edited post (the author and facilitators can read them)."""

    __tablename__ = "post_revisions"
    __table_args__ = (UniqueConstraint("post_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    version: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")
    #: When this text was written (the post's creation or an earlier edit).
    written_at: Mapped[datetime]


class Reaction(Model):
    """One member's reaction to a post; pages show only the counts kept on the post."""

    __tablename__ = "post_reactions"
    __table_args__ = (UniqueConstraint("post_id", "user_id", "kind"),
                      CheckConstraint("kind IN ('insightful', 'thanks')", name="kind"))

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Flag(Model):
    """A member's report of a post, with a reason; one per member per post."""

    __tablename__ = "post_flags"
    __table_args__ = (UniqueConstraint("post_id", "user_id"),
                      Index("ix_post_flags_cohort_open", "cohort_id", "resolved_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When a facilitator dealt with it, and how ("hidden", "restored", "dismissed").
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str] = mapped_column(String(16), default="")


class Mute(Model):
    """A member muted in a cohort until a moment: they read, but cannot post or react."""

    __tablename__ = "cohort_mutes"
    __table_args__ = (UniqueConstraint("cohort_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    until: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Draft(Model):
    """What a person is typing in a thread, saved as they type and restored in a new tab."""

    __tablename__ = "post_drafts"
    __table_args__ = (UniqueConstraint("thread_id", "user_id", "parent_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: The post it replies to; 0 for a new top-level post.
    parent_id: Mapped[int] = mapped_column(default=0)
    body: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RevealRequest(Model):
    """A break-glass request to learn who wrote a post under the "everyone" policy: asked
    by one owner or admin with a reason, decided by another."""

    __tablename__ = "reveal_requests"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'declined')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"),
                                         index=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"),
                                           index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]


keep_rendered(Prompt.body, Prompt.body_html)
# A thread's copy of the prompt's HTML is taken at launch with the other settings.
keep_rendered(Thread.body, Thread.body_html, copied=True)
keep_rendered(Post.body, Post.body_html)
# A revision keeps the HTML its post had; it is never edited.
keep_rendered(PostRevision.body, PostRevision.body_html, copied=True)
