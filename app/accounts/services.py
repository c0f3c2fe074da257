"""Account rules: sign-in, sessions, profile, invitations, password resets, user admin.

API tokens are in :mod:`app.accounts.tokens`.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, partial
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from app import audit, realtime
from app.accounts.models import AccountLink, ApiToken, LoginSession, User
from app.db import after_response, get_session, insert_for, transaction
from app.errors import Invalid, NotAllowed, NotFound
from app.links import absolute_url
from app.mail import queue_email
from app.text import one_line_problem

PASSWORD_MIN = 8
PASSWORD_MAX = 256
#: A few of the most common passwords; longer lists belong to a breach-check service.
COMMON_PASSWORDS = frozenset({
    "password", "password1", "12345678", "123456789", "1234567890", "qwertyui",
    "qwerty123", "iloveyou", "11111111", "abc12345", "letmein1", "welcome1",
    "passw0rd", "admin123", "changeme",
})
#: How often a session's or token's "last seen" time is written (saves a write per request).
TOUCH_INTERVAL = timedelta(minutes=5)
LINK_INVALID = "This link has expired or was already used. Ask for a new one."
SIGN_IN_ERROR = "That e-mail and password do not match an account. Check both and try again."


def hash_password(password: str) -> str:
    """Hash a password for storage with the configured method (full-strength scrypt)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


@cache
def _dummy_hash(method: str) -> str:
    """A hash compared against when no account matches, so a miss costs what a hit does.

    Made on the first miss, not at import: hashing takes scrypt's 32 MB, which every web
    worker would otherwise hold at its peak from the start.
    """
    return generate_password_hash("not-a-real-password", method=method)


def hash_secret(secret: str) -> str:
    """Hash a high-entropy secret (session, token, link) for storage."""
    return hashlib.sha256(secret.encode()).hexdigest()


def normalize_email(raw: str) -> str:
    """Return the e-mail lower-cased and checked, or raise Invalid."""
    try:
        # test_environment admits the reserved .test domain (the demo) and skips DNS.
        result = validate_email((raw or "").strip(), check_deliverability=False,
                                test_environment=True)
    except EmailNotValidError as error:
        raise Invalid("Enter a valid e-mail address.",
                      fields={"email": str(error)}) from error
    return result.normalized.lower()


def check_password_rules(password: str, field: str = "password") -> None:
    """Raise Invalid unless the password is acceptable (length, not a common one)."""
    if len(password or "") < PASSWORD_MIN:
        raise Invalid(fields={field: f"Use at least {PASSWORD_MIN} characters."})
    if len(password) > PASSWORD_MAX:
        raise Invalid(fields={field: f"Use at most {PASSWORD_MAX} characters."})
    if password.lower() in COMMON_PASSWORDS:
        raise Invalid(fields={field: "That password is too common; choose another."})


@cache
def timezone_names() -> tuple[str, ...]:
    """The IANA zones this machine knows, sorted (read from disk once per process)."""
    return tuple(sorted(available_timezones()))


def check_timezone(name: str, field: str = "timezone") -> str:
    """Return the zone name if it is a known IANA zone, else raise Invalid."""
    if name not in _timezone_set():
        raise Invalid(fields={field: "Choose a time zone from the list, e.g. Europe/Berlin."})
    return name


@cache
def _timezone_set() -> frozenset[str]:
    """The same zones, for membership checks."""
    return frozenset(timezone_names())


def check_name(name: str, field: str = "name") -> str:
    """Return a trimmed display name or raise Invalid."""
    name = (name or "").strip()
    if not name:
        raise Invalid(fields={field: "Enter a name."})
    if len(name) > 120:
        raise Invalid(fields={field: "Use at most 120 characters."})
    if problem := one_line_problem(name):
        raise Invalid(fields={field: problem})
    return name


#: Longest intro (one line people write about themselves for their cohorts).
INTRO_MAX = 160


def check_intro(intro: str | None, field: str = "intro") -> str:
    """Return a trimmed one-line intro (empty is fine) or raise Invalid."""
    intro = (intro or "").strip()
    if len(intro) > INTRO_MAX:
        raise Invalid(fields={field: f"Keep your intro to {INTRO_MAX} characters "
                                     f"(this one has {len(intro)})."})
    if problem := one_line_problem(intro):
        raise Invalid(fields={field: problem})
    return intro


# --- reading -------------------------------------------------------------------------------

def get_user_by_email(email: str) -> User | None:
    """Return the user with this e-mail, if any."""
    return get_session().scalar(select(User).where(User.email == email.strip().lower()))


def get_user(user_id: int) -> User:
    """Return a user by id or raise NotFound."""
    user = get_session().get(User, user_id)
    if user is None:
        raise NotFound()
    return user


def check_admin(actor: User) -> None:
    """Raise NotAllowed unless the actor is a site admin (user administration)."""
    if not actor.is_admin:
        raise NotAllowed("Only site admins manage accounts.")


def list_users(actor: User, *, after_id: int = 0, limit: int = 50,
               search: str = "") -> list[User]:
    """List users for a site admin, ordered by id, after a cursor."""
    check_admin(actor)
    query = select(User).where(User.id > after_id).order_by(User.id).limit(limit)
    term = search.strip().lower()
    if term:
        # autoescape: a "%" or "_" typed in the search box is a character, not a wildcard.
        query = query.where(func.lower(User.email).contains(term, autoescape=True)
                            | func.lower(User.name).contains(term, autoescape=True))
    return list(get_session().scalars(query))


# --- sign-in and sessions -------------------------------------------------------------------

def authenticate(email: str, password: str) -> User:
    """Return the active user with these credentials, or raise Invalid with one message.

    The message and the time taken are the same whether or not the account exists. Only
    the right password to a disabled account learns that it is disabled, and whom to ask
    (NotAllowed): a wrong one gets the same message as everyone else.
    """
    user = get_user_by_email(email or "")
    password_hash = (user.password_hash if user is not None and user.password_hash
                     else _dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]))
    matches = check_password_hash(password_hash, password or "")
    if user is None or not user.has_password or not matches:
        raise Invalid(SIGN_IN_ERROR, code="sign_in_failed")
    if user.is_disabled:
        contact = current_app.config["SUPPORT_EMAIL"]
        raise NotAllowed("This account is disabled. To have it enabled again, contact "
                         + (contact if contact else "a site admin of Cohort Commons") + ".",
                         code="account_disabled")
    return user


@dataclass
class SessionStart:
    """A new login session: the user and the secret to keep in the cookie."""

    user: User
    session_key: str


def start_login_session(user: User, *, user_agent: str, now: datetime,
                        lifetime: timedelta) -> SessionStart:
    """Record a new signed-in browser and return its secret session key."""
    with transaction() as session:
        secret = secrets.token_urlsafe(32)
        row = LoginSession(user_id=user.id, token_hash=hash_secret(secret),
                           created_at=now, last_seen_at=now, expires_at=now + lifetime,
                           user_agent=(user_agent or "")[:255])
        session.add(row)
        session.flush()
        user.last_seen_at = now
        return SessionStart(user=user, session_key=f"{row.id}.{secret}")


def sign_in(email: str, password: str, *, user_agent: str, now: datetime,
            lifetime: timedelta) -> SessionStart:
    """Check credentials and start a login session."""
    user = authenticate(email, password)
    return start_login_session(user, user_agent=user_agent, now=now, lifetime=lifetime)


def load_session_user(session_key: str, now: datetime) -> User | None:
    """Return the user of a valid login session key, or None (revoked, expired, disabled)."""
    if not session_key or "." not in session_key:
        return None
    _, secret = session_key.split(".", 1)
    row = get_session().scalar(
        select(LoginSession).where(LoginSession.token_hash == hash_secret(secret))
    )
    if row is None or not row.is_valid(now) or row.user.is_disabled:
        return None
    if now - row.last_seen_at > TOUCH_INTERVAL:
        after_response(partial(touch_login_session, row.id, now))
    return row.user


def touch_login_session(session_id: int, now: datetime) -> None:
    """Write a login session's (and its user's) last-seen time, when TOUCH_INTERVAL old.

    Requests hand this to app.db.after_response: a plain read never commits.
    """
    with transaction() as session:
        row = session.get(LoginSession, session_id)
        if row is not None and now - row.last_seen_at > TOUCH_INTERVAL:
            row.last_seen_at = now
            row.user.last_seen_at = now


def end_login_session(session_key: str, now: datetime) -> None:
    """Revoke one login session (sign out): its cookies and live sockets stop working."""
    if not session_key or "." not in session_key:
        return
    _, secret = session_key.split(".", 1)
    with transaction() as session:
        row = session.scalar(
            select(LoginSession).where(LoginSession.token_hash == hash_secret(secret))
        )
        if row is not None:
            if row.revoked_at is None:
                row.revoked_at = now
            realtime.close_room_sockets(f"session:{row.id}")


def _revoke_sessions(user: User, now: datetime) -> None:
    """Revoke every open login session of the user (within the caller's transaction).

    Their live sockets close once the transaction commits.
    """
    rows = get_session().scalars(
        select(LoginSession).where(LoginSession.user_id == user.id,
                                   LoginSession.revoked_at.is_(None))
    )
    for row in rows:
        row.revoked_at = now
    realtime.close_room_sockets(f"user:{user.id}")


def _revoke_credentials(user: User, now: datetime) -> int:
    """End every way in that a new password should end: sessions and API tokens.

    Whoever learned the old password may have made a token with it; after a change or a
    reset, only the person who knows the new one gets in. Returns how many tokens ended.
    """
    _revoke_sessions(user, now)
    ended = get_session().execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now).execution_options(synchronize_session=False)
    ).rowcount
    return ended


# --- profile and password ---------------------------------------------------------------------

def update_profile(user: User, *, name: str, timezone: str, intro: str | None = None) -> User:
    """Change a person's own name, time zone and (unless None) intro."""
    errors = {}
    try:
        name = check_name(name)
    except Invalid as error:
        errors.update(error.fields)
    if intro is not None:
        try:
            intro = check_intro(intro)
        except Invalid as error:
            errors.update(error.fields)
    try:
        check_timezone(timezone)
    except Invalid as error:
        errors.update(error.fields)
    if errors:
        raise Invalid(fields=errors)
    with transaction():
        user.name = name
        user.timezone = timezone
        if intro is not None:
            user.intro = intro
    return user


def change_password(user: User, *, current_password: str, new_password: str,
                    user_agent: str, now: datetime, lifetime: timedelta) -> SessionStart:
    """Change a password after checking the current one.

    Every other session of the person ends; the returned session replaces the caller's.
    """
    if not user.password_hash or not check_password_hash(user.password_hash,
                                                         current_password or ""):
        raise Invalid(fields={"current_password": "That is not your current password."})
    check_password_rules(new_password, "new_password")
    with transaction() as session:
        user.password_hash = hash_password(new_password)
        tokens = _revoke_credentials(user, now)
        audit.record(session, user.id, "user.password_changed", target_type="user",
                     target_id=user.id, tokens_revoked=tokens)
        return start_login_session(user, user_agent=user_agent, now=now, lifetime=lifetime)


# --- invitations and resets ---------------------------------------------------------------------

def _new_link(user: User, purpose: str, *, now: datetime, ttl: timedelta,
              created_by: User | None) -> str:
    """Create a single-use link, retiring older unused ones of the same purpose."""
    session = get_session()
    for old in session.scalars(
        select(AccountLink).where(AccountLink.user_id == user.id,
                                  AccountLink.purpose == purpose,
                                  AccountLink.used_at.is_(None))
    ):
        old.expires_at = min(old.expires_at, now)
    secret = secrets.token_urlsafe(32)
    session.add(AccountLink(user_id=user.id, purpose=purpose, token_hash=hash_secret(secret),
                            created_by_id=created_by.id if created_by else None,
                            created_at=now, expires_at=now + ttl))
    return secret


def invite_user(actor: User | None, email: str, *, now: datetime, context: str = "",
                cohort_name: str = "", timezone: str = "UTC") -> tuple[User, bool]:
    """Make sure an account exists for the e-mail; invite it when it has no password yet.

    Returns the user and whether an invitation was sent. ``context`` is a sentence for the
    e-mail, e.g. which cohort the person was added to; ``cohort_name`` names that cohort in
    the subject; a new account starts in ``timezone`` (the cohort's: its invitation page
    offers it until the person picks their own). Callers check who may invite.
    A disabled account gets no invitation (its link would not work).
    """
    email = normalize_email(email)
    with transaction() as session:
        user = get_user_by_email(email)
        if user is not None and (user.has_password or user.is_disabled):
            return user, False
        if user is None:
            # The same new e-mail may be invited to two cohorts at the same moment: the
            # first insert wins, the other waits for it and then uses that account.
            created = session.scalar(
                insert_for(session)(User)
                .values(email=email, name="", created_at=now, timezone=timezone,
                        is_admin=False, can_own_programs=False, is_disabled=False)
                .on_conflict_do_nothing(index_elements=["email"]).returning(User.id))
            user = session.scalar(select(User).where(User.email == email)
                                  .execution_options(populate_existing=True))
            if created is not None:
                audit.record(session, actor.id if actor else None, "user.invited",
                             target_type="user", target_id=user.id)
        ttl = current_app.config["INVITE_TTL"]
        secret = _new_link(user, "invite", now=now, ttl=ttl, created_by=actor)
        inviter = actor.display_name if actor else "Cohort Commons"
        body = (
            f"{inviter} has invited you to Cohort Commons.\n"
            + (f"{context}\n" if context else "")
            + "\nChoose your name and password here (the link works once, for "
            f"{ttl.days} days):\n{absolute_url('/invite/' + secret)}\n"
        )
        subject = (f"You are invited to {cohort_name} on Cohort Commons" if cohort_name
                   else "You are invited to Cohort Commons")
        queue_email(session, to=user.email, subject=subject,
                    body=body, user_id=user.id)
        return user, True


def get_usable_link(secret: str, purpose: str, now: datetime) -> AccountLink:
    """Return the unused, unexpired link for this secret, or raise NotFound."""
    link = get_session().scalar(
        select(AccountLink).where(AccountLink.token_hash == hash_secret(secret or ""),
                                  AccountLink.purpose == purpose)
    )
    if link is None or not link.is_usable(now) or link.user.is_disabled:
        raise NotFound(LINK_INVALID, code="link_invalid")
    return link


def _use_link(link: AccountLink, now: datetime) -> None:
    """Mark a link used, atomically: of two concurrent uses, the second gets NotFound."""
    result = get_session().execute(
        update(AccountLink)
        .where(AccountLink.id == link.id, AccountLink.used_at.is_(None))
        .values(used_at=now)
    )
    if result.rowcount != 1:
        raise NotFound(LINK_INVALID, code="link_invalid")


def accept_invitation(secret: str, *, name: str, password: str, now: datetime,
                      timezone: str | None = None) -> User:
    """Set the invited person's name, password and time zone (None: as invited); the link
    is used up."""
    link = get_usable_link(secret, "invite", now)
    errors = {}
    for check, value in ((check_name, name), (check_timezone, timezone)):
        try:
            if value is not None:
                check(value)
        except Invalid as error:
            errors.update(error.fields)
    name = name.strip()
    try:
        check_password_rules(password)
    except Invalid as error:
        errors.update(error.fields)
    if errors:
        raise Invalid(fields=errors)
    with transaction() as session:
        user = link.user
        _use_link(link, now)
        user.name = name
        if timezone is not None:
            user.timezone = timezone
        user.password_hash = hash_password(password)
        audit.record(session, user.id, "user.invitation_accepted", target_type="user",
                     target_id=user.id)
    return user


def request_password_reset(email: str, *, now: datetime) -> None:
    """E-mail a reset link if the account exists; say nothing either way.

    An invited person who never set a password gets a fresh invitation instead.
    """
    try:
        email = normalize_email(email)
    except Invalid:
        return
    user = get_user_by_email(email)
    if user is None or user.is_disabled:
        return
    if not user.has_password:
        invite_user(None, email, now=now)
        return
    with transaction() as session:
        ttl = current_app.config["PASSWORD_RESET_TTL"]
        secret = _new_link(user, "reset", now=now, ttl=ttl, created_by=None)
        minutes = int(ttl.total_seconds() // 60)
        body = (
            "Someone asked to reset the password of your Cohort Commons account.\n"
            f"If it was you, choose a new password here (the link works once, for {minutes} "
            f"minutes):\n{absolute_url('/reset/' + secret)}\n\n"
            "If it was not you, ignore this message; your password stays as it is.\n"
        )
        queue_email(session, to=user.email, subject="Reset your Cohort Commons password",
                    body=body, user_id=user.id)


def reset_password(secret: str, *, password: str, now: datetime) -> User:
    """Set a new password from a reset link; every existing session ends."""
    link = get_usable_link(secret, "reset", now)
    check_password_rules(password)
    with transaction() as session:
        user = link.user
        _use_link(link, now)
        user.password_hash = hash_password(password)
        tokens = _revoke_credentials(user, now)
        audit.record(session, user.id, "user.password_reset", target_type="user",
                     target_id=user.id, tokens_revoked=tokens)
    return user


# --- site administration ------------------------------------------------------------------------

def create_user(actor: User | None, *, email: str, name: str, password: str,
                is_admin: bool = False, can_own_programs: bool = False,
                timezone: str = "UTC", now: datetime) -> User:
    """Create an account with a password. Site admins only (``actor`` None: the CLI)."""
    if actor is not None:
        check_admin(actor)
    errors = {}
    try:
        email = normalize_email(email)
    except Invalid as error:
        errors.update(error.fields)
    for check in (lambda: check_name(name), lambda: check_password_rules(password),
                  lambda: check_timezone(timezone)):
        try:
            check()
        except Invalid as error:
            errors.update(error.fields)
    if errors:
        raise Invalid(fields=errors)
    if get_user_by_email(email) is not None:
        raise Invalid(fields={"email": "An account with this e-mail already exists."},
                      code="email_taken")
    with transaction() as session:
        user = User(email=email, name=name.strip(), password_hash=hash_password(password),
                    is_admin=is_admin, can_own_programs=can_own_programs, timezone=timezone,
                    created_at=now)
        session.add(user)
        session.flush()
        audit.record(session, actor.id if actor else None, "user.created", target_type="user",
                     target_id=user.id, is_admin=is_admin, can_own_programs=can_own_programs)
    return user


def set_site_roles(actor: User, user_id: int, *, is_admin: bool | None = None,
                   can_own_programs: bool | None = None,
                   is_disabled: bool | None = None, now: datetime) -> User:
    """Grant or withdraw site admin and program-owner rights, or disable an account."""
    check_admin(actor)
    with transaction() as session:
        user = get_user(user_id)
        if user.id == actor.id and (is_admin is False or is_disabled):
            raise Invalid("You cannot remove your own admin rights or disable yourself.",
                          code="self_demotion")
        changes = {}
        for field, value in (("is_admin", is_admin), ("can_own_programs", can_own_programs),
                             ("is_disabled", is_disabled)):
            if value is not None and getattr(user, field) != value:
                setattr(user, field, value)
                changes[field] = value
        if is_disabled:
            _revoke_sessions(user, now)
        if changes:
            audit.record(session, actor.id, "user.site_roles_changed", target_type="user",
                         target_id=user.id, **changes)
    return user
