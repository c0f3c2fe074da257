"""Accounts: people, their sign-in sessions, API tokens and one-time links."""

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Model, utcnow


class User(Model):
    """A person who can sign in (or has been invited and has not yet)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Always stored lower-case; the unique key for sign-in.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    #: None until an invited person sets a password.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    #: An IANA zone name, e.g. "Europe/Berlin"; dates are shown in it.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    #: One line the person writes about themselves, shown to their cohorts' members.
    intro: Mapped[str] = mapped_column(String(160), default="", server_default=text("''"))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    can_own_programs: Mapped[bool] = mapped_column(Boolean, default=False)
    #: A disabled account cannot sign in and its sessions and tokens stop working.
    is_disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]

    #: Set per request by the sign-in loader: the login session this user arrived with.
    session_key = None
    is_authenticated = True
    is_anonymous = False

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"

    @property
    def is_active(self) -> bool:
        """Disabled accounts are not active (Flask-Login refuses them)."""
        return not self.is_disabled

    def get_id(self) -> str | None:
        """What Flask-Login keeps in the cookies: the login-session key, not the user id.

        Revoking the login session (sign-out, password change) therefore invalidates
        the session cookie and the remember-me cookie together.
        """
        return self.session_key

    @property
    def has_password(self) -> bool:
        """True once the person has set a password (an accepted invitation)."""
        return self.password_hash is not None

    @property
    def display_name(self) -> str:
        """The name to show, falling back to the part of the e-mail before the @."""
        return self.name or self.email.split("@", 1)[0]


class LoginSession(Model):
    """One signed-in browser. Revoking it ends that browser's session and remember cookie."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: SHA-256 of the secret kept in the session cookie; the secret itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    user_agent: Mapped[str] = mapped_column(String(255), default="")

    user: Mapped[User] = relationship(lazy="joined")

    def is_valid(self, now: datetime) -> bool:
        """True while not revoked and not expired."""
        return self.revoked_at is None and self.expires_at > now


class ApiToken(Model):
    """A personal API token for integrations; stored only as a hash."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first characters of the token, so a person can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")

    def is_valid(self, now: datetime) -> bool:
        """True while not revoked and not expired."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class AccountLink(Model):
    """A single-use, expiring link sent by e-mail: an invitation or a password reset."""

    __tablename__ = "account_links"
    __table_args__ = (
        CheckConstraint("purpose IN ('invite', 'reset')", name="purpose"),
        Index("ix_account_links_user_purpose", "user_id", "purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    def is_usable(self, now: datetime) -> bool:
        """True while unused and unexpired."""
        return self.used_at is None and self.expires_at > now
