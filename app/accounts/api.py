"""Account endpoints of the JSON API: tokens, me, users."""

from datetime import datetime

from flask import Blueprint
from pydantic import Field

from app.accounts import services, tokens
from app.api import (
    Page,
    PageQuery,
    ResponseSchema,
    Schema,
    check_limit,
    decode_cursor,
    endpoint,
    page_of,
)
from app.db import utcnow
from app.extensions import limiter
from app.security import login_rate_limit

bp = Blueprint("accounts_api", __name__, url_prefix="/api/v1")


class TokenRequest(Schema):
    """Credentials to exchange for a personal API token."""

    email: str = Field(max_length=254)
    password: str = Field(max_length=256)
    name: str = Field(default="", max_length=80, description="A label, e.g. 'HR sync'.")


class TokenOut(ResponseSchema):
    """A personal API token. ``token`` is present only in the response that created it."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    token: str | None = None


class UserOut(ResponseSchema):
    """A user as an admin (or the user themself) sees them."""

    id: int
    email: str
    name: str
    timezone: str
    is_admin: bool
    can_own_programs: bool
    is_disabled: bool
    has_password: bool
    created_at: datetime


class CreateUserRequest(Schema):
    """A new account, created by a site admin."""

    email: str = Field(max_length=254)
    name: str = Field(min_length=1, max_length=120)
    password: str = Field(min_length=1, max_length=256)
    timezone: str = Field(default="UTC", max_length=64)
    is_admin: bool = False
    can_own_programs: bool = False


class UserListQuery(PageQuery):
    """Filter for the user list."""

    q: str = Field(default="", max_length=100)


@endpoint(bp, "/tokens", "POST", body=TokenRequest, response=TokenOut, status=201, auth=False,
          errors=(403, 429),
          summary="Exchange an e-mail and password for a personal API token")
@limiter.limit(login_rate_limit)  # issuing a token is a sign-in
def create_token(body: TokenRequest):
    """Issue a token; the secret is in this response only."""
    token, secret = tokens.issue_api_token_for_credentials(
        body.email, body.password, name=body.name, now=utcnow())
    out = TokenOut.model_validate(token)
    out.token = secret
    return out


@endpoint(bp, "/users", "POST", body=CreateUserRequest, response=UserOut, status=201,
          errors=(403,), guard=services.check_admin, summary="Create a user (site admins)")
def create_user(user, body: CreateUserRequest):
    """Create an account with a password."""
    return services.create_user(
        user, email=body.email, name=body.name, password=body.password,
        timezone=body.timezone, is_admin=body.is_admin,
        can_own_programs=body.can_own_programs, now=utcnow())


@endpoint(bp, "/users", "GET", query=UserListQuery, response=Page[UserOut], errors=(403,),
          guard=services.check_admin, summary="List users (site admins), paginated")
def list_users(user, query: UserListQuery):
    """Users in id order, optionally filtered by e-mail or name."""
    limit = check_limit(query.limit)
    rows = services.list_users(user, after_id=decode_cursor(query.cursor), limit=limit + 1,
                               search=query.q)
    return page_of(rows, limit, UserOut.model_validate)


class SiteRolesPatch(Schema):
    """Site rights to grant (true) or withdraw (false); fields left out stay as they are."""

    is_admin: bool | None = None
    can_own_programs: bool | None = Field(
        default=None, description="Withdrawing it ends the person's authoring and their "
                                  "place as owner in their programs' cohorts.")
    is_disabled: bool | None = Field(
        default=None, description="A disabled account cannot sign in; its sessions end.")


@endpoint(bp, "/users/<int:user_id>", "PATCH", body=SiteRolesPatch, response=UserOut,
          errors=(403, 404), guard=services.check_admin,
          summary="Grant or withdraw site rights, disable or enable an account (site admins)")
def update_user(user, user_id: int, body: SiteRolesPatch):
    """Change a person's site rights; admins cannot demote or disable themselves (422)."""
    return services.set_site_roles(user, user_id, is_admin=body.is_admin,
                                   can_own_programs=body.can_own_programs,
                                   is_disabled=body.is_disabled, now=utcnow())


@endpoint(bp, "/tokens", "GET", query=PageQuery, response=Page[TokenOut],
          summary="My API tokens, paginated in id order (secrets are never shown again)")
def list_tokens(user, query: PageQuery):
    """My tokens."""
    limit = check_limit(query.limit)
    rows = tokens.list_api_tokens(user, after_id=decode_cursor(query.cursor), limit=limit + 1)
    return page_of(rows, limit, TokenOut.model_validate)


@endpoint(bp, "/tokens/<int:token_id>", "DELETE", status=204, errors=(404,),
          summary="Revoke one of my API tokens")
def revoke_token(user, token_id: int):
    """Revoke a token; it stops working at once."""
    tokens.revoke_api_token(user, token_id, now=utcnow())
    return "", 204
