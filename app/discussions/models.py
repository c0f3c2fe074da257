"""Discussion prompts (part of a program's module) and their threads (one per cohort)."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

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


keep_rendered(Prompt.body, Prompt.body_html)
# A thread's copy of the prompt's HTML is taken at launch with the other settings.
keep_rendered(Thread.body, Thread.body_html, copied=True)
