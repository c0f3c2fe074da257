"""Programs (reusable templates), their modules, cohorts (runs) and memberships."""

from datetime import date, datetime, time

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db import Model, utcnow
from app.sanitize import keep_rendered

ROLES = ("learner", "facilitator")
ANONYMITY_POLICIES = ("off", "peers", "everyone")


class Program(Model):
    """A reusable program: what it aims to change and its ordered modules."""

    __tablename__ = "programs"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    owner: Mapped[User] = relationship()
    goals: Mapped[list["ProgramGoal"]] = relationship(
        order_by="ProgramGoal.position", cascade="all, delete-orphan", back_populates="program"
    )
    modules: Mapped[list["Module"]] = relationship(
        order_by="Module.position", cascade="all, delete-orphan", back_populates="program"
    )


class ProgramGoal(Model):
    """A skill or value the program aims to change (used later by pre/post pulses)."""

    __tablename__ = "program_goals"
    __table_args__ = (UniqueConstraint("program_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    position: Mapped[int]
    text: Mapped[str] = mapped_column(String(200))

    program: Mapped[Program] = relationship(back_populates="goals")


class Module(Model):
    """One unit of a program, released to each cohort at an offset from its start."""

    __tablename__ = "modules"
    __table_args__ = (
        UniqueConstraint("program_id", "position"),
        CheckConstraint("release_offset_days >= 0", name="offset_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    #: Markdown as written by the owner.
    body: Mapped[str] = mapped_column(Text, default="")
    #: ``body`` rendered and cleaned when it is written (app.sanitize); pages show this.
    body_html: Mapped[str] = mapped_column(Text, default="")
    release_offset_days: Mapped[int] = mapped_column(default=0)
    #: Local wall-clock time of release in the cohort's time zone.
    release_time: Mapped[time] = mapped_column(default=time(9, 0))

    program: Mapped[Program] = relationship(back_populates="modules")


class Cohort(Model):
    """One run of a program for a group of people."""

    __tablename__ = "cohorts"
    __table_args__ = (
        CheckConstraint("anonymity IN ('off', 'peers', 'everyone')", name="anonymity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(
        ForeignKey("programs.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date]
    #: IANA zone name; releases happen at local times in this zone.
    timezone: Mapped[str] = mapped_column(String(64))
    anonymity: Mapped[str] = mapped_column(String(16), default="peers")
    #: Distinct members' flags that hide a post until a facilitator reviews it.
    flag_threshold: Mapped[int] = mapped_column(default=3, server_default="3")
    #: A peer review submitted unchanged after the kindness nudge waits for a facilitator
    #: before its author sees it.
    kindness_hold: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    launched_at: Mapped[datetime] = mapped_column(default=utcnow)

    program: Mapped[Program] = relationship()
    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="cohort", cascade="all, delete-orphan"
    )


class Membership(Model):
    """A person's role in one cohort."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("cohort_id", "user_id"),
        CheckConstraint("role IN ('learner', 'facilitator')", name="role"),
        Index("ix_memberships_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Last request in this cohort (pages or API), for the roster; updated at most hourly.
    last_active_at: Mapped[datetime | None]
    #: When the member last opened the cohort's page.
    last_visit_at: Mapped[datetime | None]
    #: The visit before that one: "new since your last visit" compares with this.
    previous_visit_at: Mapped[datetime | None]

    cohort: Mapped[Cohort] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship()


class CohortModule(Model):
    """A module as one cohort runs it: copied from the program at launch, with its schedule.

    Visibility comes from ``release_at`` alone (``release_at <= now``); ``released_at``
    records that the release's side effects (notifications, e-mails, live event) ran.
    """

    __tablename__ = "cohort_modules"
    __table_args__ = (
        UniqueConstraint("cohort_id", "position"),
        Index("ix_cohort_modules_due", "released_at", "release_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    #: The program module it was copied from (may be deleted from the program later).
    module_id: Mapped[int | None] = mapped_column(ForeignKey("modules.id", ondelete="SET NULL"))
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    #: Copied from the program module's stored HTML at launch.
    body_html: Mapped[str] = mapped_column(Text, default="")
    release_offset_days: Mapped[int] = mapped_column(default=0)
    release_time: Mapped[time] = mapped_column(default=time(9, 0))
    #: The stored schedule: when the module becomes visible (UTC).
    release_at: Mapped[datetime]
    #: When the release was processed; set exactly once by an atomic claim.
    released_at: Mapped[datetime | None]
    #: Failed attempts at the release's side effects (the module is visible all the same).
    release_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    #: When the scheduler tries again after a failure; None: no retry pending.
    release_retry_at: Mapped[datetime | None]
    #: The last failure, for the staff who see it on the timeline.
    release_error: Mapped[str | None] = mapped_column(String(500))

    cohort: Mapped[Cohort] = relationship()

    def is_released(self, now: datetime) -> bool:
        """Visible to learners from its scheduled (or moved) release time on."""
        return self.release_at <= now

    @property
    def release_stuck(self) -> bool:
        """Its release's side effects failed and have not succeeded since."""
        return self.released_at is None and self.release_failures > 0


keep_rendered(Module.body, Module.body_html)
keep_rendered(CohortModule.body, CohortModule.body_html, copied=True)


class ModuleCompletion(Model):
    """A learner marked a cohort module complete (self-paced progress)."""

    __tablename__ = "module_completions"
    __table_args__ = (
        UniqueConstraint("cohort_module_id", "user_id"),
        Index("ix_module_completions_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_module_id: Mapped[int] = mapped_column(
        ForeignKey("cohort_modules.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Announcement(Model):
    """A note from a cohort's staff to its members: never anonymous, members are told."""

    __tablename__ = "announcements"
    __table_args__ = (Index("ix_announcements_cohort_id_id", "cohort_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                           index=True)
    #: One line: it becomes the notice's title and the e-mail's subject.
    title: Mapped[str] = mapped_column(String(120))
    #: Markdown as written by the author.
    body: Mapped[str] = mapped_column(Text)
    #: ``body`` cleaned into HTML when it is written (app.sanitize); pages show this.
    body_html: Mapped[str] = mapped_column(Text, default="")
    #: Pinned announcements come first on the cohort's page (the newest pinned one).
    pinned: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User] = relationship()


keep_rendered(Announcement.body, Announcement.body_html)
