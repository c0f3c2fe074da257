"""Discussion prompts (part of a program's module) and their threads (one per cohort)."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Model, utcnow
from app.sanitize import keep_rendered

#: Stage offsets must keep the stages in order: reflect, respond, synthesize, closed.
_STAGES_IN_ORDER = (
    "respond_after_days >= 0 AND synthesize_after_days >= respond_after_days"
    " AND close_after_days >= synthesize_after_days"
)


class Prompt(Model):
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
    title: Mapped[str] = mapped_column(String(200))
    #: Markdown as written by the owner.
    body: Mapped[str] = mapped_column(Text, default="")
    #: ``body`` rendered and cleaned when it is written (app.sanitize); pages show this.
    body_html: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: Whether learners may post anonymously (where the cohort's policy allows it at all).
    anonymity_allowed: Mapped[bool] = mapped_column(default=True)
    #: Days after the module's release at which each stage opens (reflect opens at release).
    respond_after_days: Mapped[int] = mapped_column(default=2)
    synthesize_after_days: Mapped[int] = mapped_column(default=5)
    close_after_days: Mapped[int] = mapped_column(default=7)
    #: Replies to peers a learner gives before their own synthesis opens.
    min_replies: Mapped[int] = mapped_column(default=2)


class Thread(Model):
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
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    #: Copied from the prompt's stored HTML at launch.
    body_html: Mapped[str] = mapped_column(Text, default="", server_default="")
    anonymity_allowed: Mapped[bool] = mapped_column(default=True)
    respond_after_days: Mapped[int] = mapped_column(default=2)
    synthesize_after_days: Mapped[int] = mapped_column(default=5)
    close_after_days: Mapped[int] = mapped_column(default=7)
    min_replies: Mapped[int] = mapped_column(default=2)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


keep_rendered(Prompt.body, Prompt.body_html)
keep_rendered(Thread.body, Thread.body_html, copied=True)
