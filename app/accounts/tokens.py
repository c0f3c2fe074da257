"""API tokens: issued once (only a hash is kept), checked on every API request, listed and
revoked by their owner."""

import secrets
from datetime import datetime
from functools import partial

from flask import current_app
from sqlalchemy import select

from app import audit, realtime
from app.accounts.models import ApiToken, User
from app.accounts.services import TOUCH_INTERVAL, authenticate, hash_secret
from app.db import after_response, get_session, transaction
from app.errors import Invalid, NotFound
from app.text import one_line_problem

TOKEN_PREFIX = "cc_"  # noqa: S105 (a prefix, not a secret)


def issue_api_token(user: User, *, name: str, now: datetime) -> tuple[ApiToken, str]:
    """Create a personal API token; the secret is returned once and stored only hashed."""
    name = (name or "").strip()
    if len(name) > 80 or one_line_problem(name):
        raise Invalid(fields={"name": "Label the token with one line of at most 80 "
                                      "characters."})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction() as session:
        ttl = current_app.config["API_TOKEN_TTL"]
        token = ApiToken(user_id=user.id, name=name, token_hash=hash_secret(secret),
                         prefix=secret[:10], created_at=now,
                         expires_at=now + ttl if ttl else None)
        session.add(token)
        session.flush()
        audit.record(session, user.id, "token.issued", target_type="api_token",
                     target_id=token.id)
    return token, secret


def issue_api_token_for_credentials(email: str, password: str, *, name: str,
                                    now: datetime) -> tuple[ApiToken, str]:
    """Check an e-mail and password and issue a token for that account."""
    user = authenticate(email, password)
    return issue_api_token(user, name=name, now=now)


def get_valid_api_token(secret: str, now: datetime) -> ApiToken | None:
    """Return the valid API token for a secret, recording when it was last used."""
    if not isinstance(secret, str) or not secret.startswith(TOKEN_PREFIX):
        return None
    token = get_session().scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(secret)))
    if token is None or not token.is_valid(now) or token.user.is_disabled:
        return None
    if token.last_used_at is None or now - token.last_used_at > TOUCH_INTERVAL:
        after_response(partial(touch_api_token, token.id, now))
    return token


def touch_api_token(token_id: int, now: datetime) -> None:
    """Write a token's last-used time, when TOUCH_INTERVAL old (after the response, too)."""
    with transaction() as session:
        token = session.get(ApiToken, token_id)
        if token is not None and (token.last_used_at is None
                                  or now - token.last_used_at > TOUCH_INTERVAL):
            token.last_used_at = now


def authenticate_api_token(secret: str, now: datetime) -> User | None:
    """Return the user of a valid API token, recording when it was last used."""
    token = get_valid_api_token(secret, now)
    return token.user if token is not None else None


def list_api_tokens(user: User, *, after_id: int | None = None,
                    limit: int | None = None) -> list[ApiToken]:
    """The person's own tokens: newest first, or in id order after a cursor when paging."""
    query = select(ApiToken).where(ApiToken.user_id == user.id)
    if after_id is None:
        query = query.order_by(ApiToken.id.desc())
    else:
        query = query.where(ApiToken.id > after_id).order_by(ApiToken.id)
    if limit is not None:
        query = query.limit(limit)
    return list(get_session().scalars(query))


def revoke_api_token(user: User, token_id: int, *, now: datetime) -> None:
    """Revoke one of the person's own tokens."""
    with transaction() as session:
        token = session.get(ApiToken, token_id)
        if token is None or token.user_id != user.id:
            raise NotFound()
        if token.revoked_at is None:
            token.revoked_at = now
            audit.record(session, user.id, "token.revoked", target_type="api_token",
                         target_id=token.id)
        realtime.close_room_sockets(f"token:{token.id}")


