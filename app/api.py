"""The JSON API's shared machinery: auth, parsing, errors, pagination, OpenAPI.

Each feature's ``api.py`` declares endpoints with :func:`endpoint`, naming the pydantic
schemas of the request and the response. The same schemas validate input, shape output
and generate the OpenAPI document, so the document cannot drift from the code.
"""

import base64
import binascii
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time
from typing import Annotated, Any, Generic, TypeVar

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from flask_login import current_user
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
)
from pydantic.json_schema import models_json_schema

from app.db import MAX_ID, utcnow
from app.errors import HTTP_CODES, BadRequest, Invalid, NotSignedIn
from app.extensions import csrf

API_PREFIX = "/api/v1"
T = TypeVar("T")
#: An object id in a request body: ids are INTEGER columns, so a larger number is refused
#: as invalid input instead of reaching the database.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]

_LOCAL_TIME = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d)?")
LOCAL_TIME_SCHEMA = {
    "type": "string", "pattern": "^" + _LOCAL_TIME.pattern + "$", "examples": ["09:00"],
    "description": "A local wall-clock time of day (HH:MM or HH:MM:SS) in the cohort's "
                   "time zone, without a UTC offset: the zone comes from each cohort.",
}


def _local_time(value: Any) -> time:
    """Read a local time of day: "HH:MM" or "HH:MM:SS", never with an offset."""
    if isinstance(value, time) and value.tzinfo is None:
        return value.replace(microsecond=0)
    if not isinstance(value, str) or not _LOCAL_TIME.fullmatch(value):
        raise ValueError("Give a local time of day as HH:MM (e.g. 09:00), without a UTC "
                         "offset: the cohort's time zone applies.")
    return time.fromisoformat(value)


#: A time of day in the cohort's zone. Declared as a plain pattern rather than the JSON
#: Schema ``time`` format, which requires an offset that a local time cannot have.
LocalTime = Annotated[time, PlainValidator(_local_time),
                      PlainSerializer(lambda value: value.strftime("%H:%M:%S"), return_type=str),
                      WithJsonSchema(LOCAL_TIME_SCHEMA)]


class Schema(BaseModel):
    """Base of request schemas: unknown fields are refused.

    Strings arrive exactly as sent: a password or a Markdown body keeps its spaces, and
    services trim what is meant to be trimmed (names, titles, e-mails).
    """

    model_config = ConfigDict(extra="forbid")


class ResponseSchema(BaseModel):
    """Base of response schemas."""

    model_config = ConfigDict(from_attributes=True)


class Page(ResponseSchema, Generic[T]):
    """A page of a list; pass ``next_cursor`` back as ``cursor`` for the next page."""

    items: list[T]
    next_cursor: str | None


class ErrorDetail(BaseModel):
    """What went wrong."""

    code: str
    message: str
    fields: dict[str, str] | None = None
    #: What the client needs to recover, e.g. a stale edit's current text and its own.
    details: dict | None = None


class ErrorResponse(BaseModel):
    """The error envelope of every failed call."""

    error: ErrorDetail


class PageQuery(Schema):
    """Query parameters of paginated lists."""

    limit: int = Field(default=50, ge=1, le=200, description="Items per page.")
    cursor: str | None = Field(default=None, description="The next_cursor of the page before.")


@dataclass
class EndpointSpec:
    """What the OpenAPI document says about one endpoint."""

    method: str
    summary: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    auth: bool
    errors: tuple[int, ...]
    #: The success response's media type, or several (e.g. the types a download may have).
    content_type: str | tuple[str, ...] = "application/json"
    tags: list[str] = field(default_factory=list)
    #: A body that is not JSON (e.g. an uploaded CSV): media type -> schema, for the document.
    raw_body: dict[str, dict] | None = None
    #: Other success statuses answered with the same schema (see :class:`Status`).
    also: tuple[int, ...] = ()


@dataclass(frozen=True)
class Status:
    """A view's result sent with another of its documented success statuses (``also``),
    e.g. 200 for a resource that already existed where the endpoint usually creates one."""

    result: Any
    code: int


def encode_cursor(last_id: int) -> str:
    """An opaque cursor pointing after the given id."""
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The id a cursor points after (0 for none); a bad cursor is a 400."""
    if not cursor:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        after = json.loads(base64.urlsafe_b64decode(padded.encode()))["after"]
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise BadRequest("The cursor is not valid; start again without it.",
                         code="bad_cursor") from error
    # ``true`` is an int to Python but no id; ids are 32-bit INTEGER columns, and a larger
    # number would make PostgreSQL fail the query instead of returning an empty page.
    if isinstance(after, bool) or not isinstance(after, int) or not 0 <= after <= MAX_ID:
        raise BadRequest("The cursor is not valid; start again without it.", code="bad_cursor")
    return after


def page_of(rows: list, limit: int, present: Callable[[Any], Any]) -> dict:
    """Build a page from ``limit + 1`` rows fetched in id order."""
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [present(row) for row in rows],
        "next_cursor": encode_cursor(rows[-1].id) if more and rows else None,
    }


def check_limit(limit: int, maximum: int = 200) -> int:
    """Keep a page size within bounds, or raise a field error."""
    if not 1 <= limit <= maximum:
        raise Invalid(fields={"limit": f"Use a number from 1 to {maximum}."})
    return limit


def _field_errors(error: ValidationError) -> dict[str, str]:
    """Turn pydantic's errors into ``{"field.path": "message"}``."""
    fields: dict[str, str] = {}
    for item in error.errors(include_url=False):
        path = ".".join(str(part) for part in item["loc"]) or "body"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "This field is not accepted here."
        elif item["type"] == "missing":
            message = "This field is required."
        fields.setdefault(path, message)
    return fields


def api_user():
    """The caller: a bearer-token user, or the session user (CSRF checked), else 401."""
    if "api_user" in g:
        return g.api_user
    header = request.headers.get("Authorization", "")
    if header:
        from app.accounts.tokens import authenticate_api_token

        scheme, _, secret = header.partition(" ")
        user = None
        if scheme.lower() == "bearer":
            user = authenticate_api_token(secret.strip(), utcnow())
        if user is None:
            raise NotSignedIn("The API token is missing, revoked or expired.",
                              code="bad_token")
        g.api_user = user
        return user
    if current_user.is_authenticated:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()  # cookie-authenticated writes need X-CSRFToken
        g.api_user = current_user._get_current_object()
        return g.api_user
    raise NotSignedIn()


def parse_json(schema: type[BaseModel]) -> BaseModel:
    """Validate a JSON body against a schema, for a view that also takes other media
    types (``raw_body``) and so reads its body itself."""
    return _parse(schema, "body")


def _parse(schema: type[BaseModel] | None, source: str) -> BaseModel | None:
    """Validate the JSON body or the query string against a schema."""
    if schema is None:
        return None
    if source == "body":
        if not request.is_json:
            raise BadRequest("Send a JSON body with Content-Type: application/json.",
                             code="malformed_json")
        try:
            data = request.get_json(silent=True)
        except RecursionError:
            data = None  # nested deeper than the parser goes: no schema could match it
        if data is None:
            raise BadRequest("The body is not valid JSON.", code="malformed_json")
        if not isinstance(data, dict):
            raise BadRequest("The body must be a JSON object.", code="malformed_json")
        try:
            # Strict: JSON types must match the document (no "yes" for true, "5" for 5).
            return schema.model_validate_json(request.get_data(), strict=True)
        except ValidationError as error:
            raise Invalid(fields=_field_errors(error)) from error
    try:
        # Query strings carry only text, so numbers there are read leniently.
        return schema.model_validate(request.args.to_dict())
    except ValidationError as error:
        raise Invalid(fields=_field_errors(error)) from error


def endpoint(bp: Blueprint, rule: str, method: str, *, summary: str,
             body: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
             response: type[BaseModel] | None = None, status: int = 200, auth: bool = True,
             errors: tuple[int, ...] = (),
             content_type: str | tuple[str, ...] = "application/json",
             raw_body: dict[str, dict] | None = None,
             guard: Callable[[Any], None] | None = None, also: tuple[int, ...] = (),
             max_content_length: int | None = None):
    """Declare an API endpoint: routing, auth, validation, response shape and docs.

    The view receives ``user`` (when ``auth``), ``body`` and ``query`` as keyword
    arguments along with the URL values, and returns a dict, a model, or a Response.
    A view that reads a non-JSON body itself names its media types in ``raw_body``.
    ``guard(user)`` is a service check of the caller's site role (e.g. admins only) that
    runs before the input is parsed, so a caller who may not call at all gets 403 rather
    than a list of field errors. A view returns :class:`Status` to answer with one of the
    success statuses in ``also``. ``max_content_length`` lets this endpoint alone take a
    larger body than ``MAX_CONTENT_LENGTH`` (uploads), set before anything reads it.
    """
    def decorate(view: Callable) -> Callable:
        """Wrap the view and register it with its description."""
        @functools.wraps(view)
        def wrapper(**url_values):
            """Authenticate, parse, call the view and shape its result."""
            kwargs = dict(url_values)
            if auth:
                kwargs["user"] = api_user()
                if guard is not None:
                    guard(kwargs["user"])
            if body is not None:
                kwargs["body"] = _parse(body, "body")
            if query is not None:
                kwargs["query"] = _parse(query, "query")
            result = view(**kwargs)
            code = status
            if isinstance(result, Status):
                result, code = result.result, result.code
            if result is None:
                return "", code
            if response is None or isinstance(result, Response | str | tuple):
                return result
            # Dicts, other schemas and ORM objects alike are shaped by the response schema.
            model = result if isinstance(result, response) else response.model_validate(result)
            return jsonify(model.model_dump(mode="json")), code

        wrapper._api_spec = EndpointSpec(
            method=method, summary=summary, body=body, query=query, response=response,
            status=status, auth=auth, errors=errors, content_type=content_type,
            tags=[bp.name.removesuffix("_api")], raw_body=raw_body, also=also,
        )
        # app.security applies it before anything reads the body.
        wrapper.max_content_length = max_content_length
        # Session-cookie callers are CSRF-checked in api_user(); token callers need none.
        csrf.exempt(wrapper)
        bp.add_url_rule(rule, view.__name__, wrapper, methods=[method])
        return wrapper
    return decorate


# --- the OpenAPI document --------------------------------------------------------------------

_PATH_PARAM = re.compile(r"<(?:(?P<conv>[a-z]+):)?(?P<name>\w+)>")


def api_rules(app: Flask):
    """The URL rules under the API prefix (excluding the document itself)."""
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API_PREFIX + "/") and rule.endpoint != "api.openapi":
            yield rule


def undocumented_endpoints(app: Flask) -> list[str]:
    """API routes that have no OpenAPI description (should always be empty)."""
    return sorted(
        f"{method} {rule.rule}"
        for rule in api_rules(app)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
        if getattr(app.view_functions[rule.endpoint], "_api_spec", None) is None
        or app.view_functions[rule.endpoint]._api_spec.method != method
    )


def _openapi_path(rule: str) -> tuple[str, list[dict]]:
    """Convert a Flask rule to an OpenAPI path with its parameters."""
    params = []
    for match in _PATH_PARAM.finditer(rule):
        kind = {"int": "integer"}.get(match["conv"] or "", "string")
        params.append({"name": match["name"], "in": "path", "required": True,
                       "schema": {"type": kind}})
    return _PATH_PARAM.sub(lambda m: "{" + m["name"] + "}", rule), params


def build_openapi(app: Flask) -> dict:
    """Generate the OpenAPI 3.1 document from the registered endpoints."""
    specs = []
    for rule in sorted(api_rules(app), key=lambda r: r.rule):
        spec = getattr(app.view_functions[rule.endpoint], "_api_spec", None)
        if spec is not None:
            specs.append((rule, spec))
    models: set[tuple[type[BaseModel], str]] = {(ErrorResponse, "serialization")}
    for _, spec in specs:
        if spec.body:
            models.add((spec.body, "validation"))
        if spec.response:
            models.add((spec.response, "serialization"))
    refs, schema_doc = models_json_schema(
        sorted(models, key=lambda m: (m[0].__name__, m[1])),
        ref_template="#/components/schemas/{model}",
    )
    error_ref = refs[(ErrorResponse, "serialization")]
    paths: dict[str, dict] = {}
    for rule, spec in specs:
        path, params = _openapi_path(rule.rule)
        operation: dict[str, Any] = {
            "operationId": rule.endpoint.replace(".", "_"),
            "summary": spec.summary,
            "tags": spec.tags,
            "parameters": list(params),
            "responses": {},
        }
        if spec.query:
            for name, info in spec.query.model_fields.items():
                schema = spec.query.model_json_schema()["properties"][name]
                operation["parameters"].append({
                    "name": name, "in": "query", "required": info.is_required(),
                    "schema": schema,
                })
        if spec.body:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(spec.body, "validation")]}},
            }
        if spec.raw_body:
            operation["requestBody"] = {"required": True, "content": spec.raw_body}
        ok: dict[str, Any] = {"description": HTTP_CODES.get(spec.status, "ok")}
        if spec.status == 200 or spec.status == 201:
            ok["description"] = "Success"
        if spec.response:
            ok["content"] = {spec.content_type: {
                "schema": refs[(spec.response, "serialization")]}}
        elif spec.content_type != "application/json":
            media_types = ((spec.content_type,) if isinstance(spec.content_type, str)
                           else spec.content_type)
            ok["content"] = {media: {"schema": {"type": "string"}} for media in media_types}
        for code in (spec.status, *spec.also):
            operation["responses"][str(code)] = ok
        codes = set(spec.errors) | ({401} if spec.auth else set())
        if spec.body or spec.query:
            codes |= {400, 422}
        if spec.body or spec.raw_body:
            codes |= {400, 413, 422}
        if spec.auth and spec.method not in ("GET", "HEAD", "OPTIONS"):
            codes.add(400)  # a session-cookie write without a valid X-CSRFToken
        if spec.method not in ("GET", "HEAD", "OPTIONS"):
            codes.add(409)  # a write that clashed with one made at the same moment
        for code in sorted(codes):
            operation["responses"][str(code)] = {
                "description": HTTP_CODES.get(code, "error"),
                "content": {"application/json": {"schema": error_ref}},
            }
        if spec.auth:
            operation["security"] = [{"bearerAuth": []}, {"sessionCookie": []}]
        else:
            operation["security"] = []
        paths.setdefault(path, {})[spec.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Cohort Commons API",
            "version": "1",
            "description": "Programs, cohorts, staged discussions and peer review. "
                           "Errors use the envelope {error: {code, message, fields}}.",
        },
        "servers": [{"url": current_app.config["BASE_URL"]}],
        "paths": paths,
        "components": {
            "schemas": schema_doc.get("$defs", {}),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "cc_session",
                                  "description": "Browser session; writes also need the "
                                                 "X-CSRFToken header."},
            },
        },
    }


bp = Blueprint("api", __name__, url_prefix=API_PREFIX)


@bp.get("/openapi.json")
def openapi():
    """Serve the OpenAPI document (built on the first request; routes do not change after)."""
    document = current_app.extensions.get("openapi_document")
    if document is None:
        document = current_app.extensions["openapi_document"] = build_openapi(current_app)
    return jsonify(document)
