"""Sign-in wiring (Flask-Login) and the security headers of every response."""

import contextlib
from collections.abc import Iterator
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request, session
from flask_limiter.util import get_remote_address
from flask_login import AnonymousUserMixin, current_user, user_loaded_from_cookie

from app.db import utcnow
from app.errors import BadRequest
from app.extensions import login_manager

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


class Anonymous(AnonymousUserMixin):
    """The visitor who has not signed in."""

    is_admin = False
    can_own_programs = False
    timezone = "UTC"


def login_rate_limit() -> str:
    """The configured limit on sign-in attempts (forms, password resets, API tokens)."""
    return current_app.config["LOGIN_RATE_LIMIT"]


def posting_rate_limit() -> str:
    """The configured limit on posting and editing, per person."""
    return current_app.config["POSTING_RATE_LIMIT"]


def flag_rate_limit() -> str:
    """The configured limit on reports of posts (pages and API), per person."""
    return current_app.config["FLAG_RATE_LIMIT"]


def per_person() -> str:
    """A rate-limit key for the signed-in person (API token or session), whatever their
    address: one office behind one NAT is many people."""
    user = g.get("api_user") or (current_user if current_user.is_authenticated else None)
    if user is None:
        return f"address:{get_remote_address()}"
    return f"user:{user.id}"


def is_local_path(target: str | None) -> bool:
    """True for a path on this site, safe to redirect to (not ``//host`` or ``/\\host``).

    Control characters are refused too: a CR or LF cannot go into a Location header.
    """
    if not target or any(ord(char) < 32 or ord(char) == 127 for char in target):
        return False
    parts = urlsplit(target)
    return (not parts.scheme and not parts.netloc and target.startswith("/")
            and not target.startswith("//") and "\\" not in target)


@login_manager.user_loader
def _load_user(session_key: str):
    """Resolve a login-session key from the cookie to a user, if still valid."""
    from app.accounts.services import load_session_user

    user = load_session_user(session_key, utcnow())
    if user is not None:
        user.session_key = session_key
    return user


def _bind_restored_session(_app, user) -> None:
    """Tie a session restored from the remember cookie to this browser.

    Flask-Login leaves out the browser identifier here, so under "strong" protection
    the next request would wipe the session and the remember cookie (flask-login#248).
    """
    session["_id"] = login_manager._session_identifier_generator()


def _strings_in(value) -> Iterator[str]:
    """Every string in a parsed JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings_in(item)


def _apply_body_limit() -> None:
    """Let an endpoint that takes uploads accept a larger body than ``MAX_CONTENT_LENGTH``
    (its view carries ``max_content_length``). Runs before any hook reads the body: a form
    parsed under the global limit would refuse a file the endpoint accepts."""
    view = current_app.view_functions.get(request.endpoint)
    limit = getattr(view, "max_content_length", None)
    if limit is not None:
        request.max_content_length = limit


def _refuse_nul_characters() -> None:
    """Refuse any request whose text carries a NUL character, before anything reads it.

    No text people write contains one, PostgreSQL cannot store one in a text column, and
    a NUL cut short by a C library is a classic way to smuggle a different value past a
    check. One rule at the door rather than one per field: the path, the query string,
    form fields and file names, and every string of a JSON body.
    """
    texts = [request.path, *request.args.keys(), *request.args.values()]
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            texts += [*request.form.keys(), *request.form.values(),
                      *(upload.filename or "" for upload in request.files.values())]
        elif request.is_json:
            # Nested too deep for any schema: the API refuses it as malformed anyway.
            with contextlib.suppress(RecursionError):
                texts += _strings_in(request.get_json(silent=True))
    if any("\x00" in text for text in texts):
        raise BadRequest("Text may not contain NUL characters (\\0). Remove them and try "
                         "again.", code="nul_character")


def _security_headers(response):
    """Add the headers every page should carry."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # Same-origin keeps the Referer that Flask-WTF's HTTPS CSRF check needs.
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if "Cache-Control" not in headers and session.get("_user_id"):
        headers["Cache-Control"] = "private, no-store"
    return response


def init_app(app: Flask) -> None:
    """Configure Flask-Login and the response headers."""
    login_manager.init_app(app)
    login_manager.anonymous_user = Anonymous
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = app.config["SESSION_PROTECTION"]
    user_loaded_from_cookie.connect(_bind_restored_session, app)
    app.before_request(_apply_body_limit)
    app.before_request(_refuse_nul_characters)
    app.after_request(_security_headers)
