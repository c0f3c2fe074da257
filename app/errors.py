"""Domain errors and the one handler that renders them as HTML or JSON."""

import logging

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule was broken; carries the HTTP status and a stable code."""

    status = 400
    code = "bad_request"
    default_message = "The request could not be understood."

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 fields: dict[str, str] | None = None, details: dict | None = None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        if code:
            self.code = code
        self.fields = fields or {}
        #: What the client needs to recover (e.g. a stale edit's current text and its own).
        self.details = details or {}


class BadRequest(DomainError):
    """The request is malformed (not JSON, wrong shape)."""


class NotSignedIn(DomainError):
    """Nobody is signed in."""

    status = 401
    code = "not_signed_in"
    default_message = "Sign in, or send a valid API token."


class NotAllowed(DomainError):
    """Signed in, but this role may not do this."""

    status = 403
    code = "not_allowed"
    default_message = "You are not allowed to do that."


class NotFound(DomainError):
    """Absent, or not visible to the caller (never reveal which)."""

    status = 404
    code = "not_found"
    default_message = "Nothing was found here."


class Conflict(DomainError):
    """The action clashes with the current state."""

    status = 409
    code = "conflict"
    default_message = "That clashes with the current state; reload and try again."


class Invalid(DomainError):
    """The input failed validation; ``fields`` says which and why."""

    status = 422
    code = "invalid"
    default_message = "Some fields need attention."


HTTP_CODES = {
    400: "bad_request",
    401: "not_signed_in",
    403: "not_allowed",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
}

HTTP_MESSAGES = {
    400: "The request could not be understood.",
    401: "Sign in, or send a valid API token.",
    403: "You are not allowed to do that.",
    404: "Nothing was found here.",
    405: "This address does not accept that method.",
    413: "The request is too large.",
    429: "Too many requests; wait a little and try again.",
    500: "Something went wrong on our side. It has been logged.",
}


def wants_json() -> bool:
    """True when the client should get a JSON error rather than an HTML page."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def error_body(code: str, message: str, fields: dict | None = None,
               details: dict | None = None) -> dict:
    """The JSON error envelope of the API."""
    body: dict = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    if details:
        body["details"] = details
    return {"error": body}


def render_error(status: int, code: str, message: str, fields: dict | None = None,
                 headers: dict | None = None, details: dict | None = None):
    """Render an error for the client: JSON for the API, a page otherwise."""
    if wants_json():
        return error_body(code, message, fields, details), status, headers or {}
    template = f"errors/{status}.html" if status in (403, 404, 500) else "errors/generic.html"
    page = render_template(template, status=status, code=code, message=message, fields=fields)
    return page, status, headers or {}


def _handle_domain_error(error: DomainError):
    """Present a domain error; a 401 names the scheme to authenticate with (RFC 9110)."""
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    return render_error(error.status, error.code, error.message, error.fields, headers=headers,
                        details=error.details)


#: What a request without a valid CSRF token is told (pages that keep typed text say more).
CSRF_FAILED = "The form or request had no valid CSRF token. Reload the page and try again."


def _handle_csrf_error(error: CSRFError):
    """Present a missing or bad CSRF token."""
    return render_error(400, "csrf_failed", CSRF_FAILED)


def _handle_http_error(error: HTTPException):
    """Present a werkzeug HTTP error in our format."""
    status = error.code or 500
    code = HTTP_CODES.get(status, "http_error")
    message = HTTP_MESSAGES.get(status, error.description or "")
    headers = {}
    if status == 429:
        message = HTTP_MESSAGES[429]
        retry = getattr(error, "retry_after", None)
        for name, value in error.get_headers():
            if name.lower() == "retry-after":
                retry = value
        if retry:
            headers["Retry-After"] = str(retry)
    if status == 405 and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    return render_error(status, code, message, headers=headers)


def _handle_integrity_error(error: IntegrityError):
    """A write that clashed with one saved at the same moment (a unique key, say): 409.

    Services check duplicates first and lock what they allocate; this is the net under
    them, so a race they did not foresee is a clean conflict rather than a server error.
    """
    log.warning("a write clashed with the stored data: %s", error.orig)
    return render_error(409, "conflict", "That clashes with something saved at the same "
                                         "moment. Reload and try again.")


def _handle_unexpected(error: Exception):
    """Log an unexpected failure and show a calm 500."""
    log.exception("unhandled error", exc_info=error)
    return render_error(500, "server_error", HTTP_MESSAGES[500])


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(DomainError, _handle_domain_error)
    app.register_error_handler(CSRFError, _handle_csrf_error)
    app.register_error_handler(HTTPException, _handle_http_error)
    app.register_error_handler(IntegrityError, _handle_integrity_error)
    if not app.config.get("TESTING"):
        app.register_error_handler(Exception, _handle_unexpected)
