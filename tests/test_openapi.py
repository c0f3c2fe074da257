"""The OpenAPI document: its shape, its completeness, and the checks built on it."""

import json
import re

import pytest
from flask import Blueprint, jsonify
from jsonschema import Draft202012Validator, ValidationError
from referencing.exceptions import Unresolvable

from app import create_app
from app.api import API_PREFIX, EndpointSpec, api_rules, undocumented_endpoints
from tests.conftest import test_config as app_config
from tests.http import DOCUMENT_URI, OPENAPI_PATH, ResponseValidator

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def _refs(node):
    """Every ``$ref`` value anywhere in a JSON document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _operations(document: dict):
    """``(path, method, operation)`` for every operation in the document."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def _documented_rules(app) -> dict[str, set[str]]:
    """The app's API rules as OpenAPI paths, with their methods (lower case)."""
    rules: dict[str, set[str]] = {}
    for rule in api_rules(app):
        path = re.sub(r"<(?:[a-z]+:)?(\w+)>", r"{\1}", rule.rule)
        rules.setdefault(path, set()).update(m.lower() for m in rule.methods)
    return rules


def test_the_document_is_openapi_3_1_in_shape(openapi, app):
    assert openapi["openapi"] == "3.1.0"
    assert openapi["info"]["title"] and openapi["info"]["version"]
    assert openapi["servers"] == [{"url": app.config["BASE_URL"]}]
    assert openapi["paths"], "the document describes no paths"
    schemes = set(openapi["components"]["securitySchemes"])
    operation_ids = []
    for path, method, operation in _operations(openapi):
        where = f"{method.upper()} {path}"
        assert path.startswith(API_PREFIX + "/"), where
        assert operation["responses"], f"{where} has no responses"
        for status, response in operation["responses"].items():
            assert re.fullmatch(r"[1-5]\d\d", status), f"{where}: bad status {status}"
            assert response["description"], f"{where} {status} has no description"
        successes = [s for s in operation["responses"] if s.startswith("2")]
        assert successes, f"{where} should declare a success status"
        # More than one only as the same answer with a status that says more (201 created,
        # 200 it was already there): a client reads one shape either way.
        shapes = {json.dumps(operation["responses"][s].get("content"), sort_keys=True)
                  for s in successes}
        assert len(shapes) == 1, f"{where} should answer one shape on success"
        declared = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
        assert declared == set(re.findall(r"{(\w+)}", path)), where
        for requirement in operation["security"]:
            assert set(requirement) <= schemes, where
        operation_ids.append(operation["operationId"])
    assert len(operation_ids) == len(set(operation_ids)), "operationIds must be unique"


def test_every_ref_resolves(openapi):
    resolver = ResponseValidator(openapi).registry.resolver(base_uri=DOCUMENT_URI)
    refs = set(_refs(openapi))
    assert refs, "expected the document to use $ref"
    for ref in sorted(refs):
        assert ref.startswith("#/components/schemas/"), ref
        assert resolver.lookup(ref).contents, ref


def test_an_unresolvable_ref_is_noticed(openapi):
    resolver = ResponseValidator(openapi).registry.resolver(base_uri=DOCUMENT_URI)
    with pytest.raises(Unresolvable):
        resolver.lookup("#/components/schemas/NoSuchSchema")


def test_component_schemas_are_valid_json_schema_2020_12(openapi):
    for name, schema in openapi["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
        assert schema.get("type") == "object", name


def test_error_responses_use_the_error_envelope(openapi):
    for path, method, operation in _operations(openapi):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (
                    f"{method.upper()} {path} {status}")


def test_operations_with_a_body_document_bad_input(openapi):
    for path, method, operation in _operations(openapi):
        if "requestBody" in operation:
            assert {"400", "413", "422"} <= set(operation["responses"]), (
                f"{method.upper()} {path}")


def test_cookie_authenticated_writes_document_the_csrf_failure(openapi):
    for path, method, operation in _operations(openapi):
        if operation["security"] and method not in ("get", "head", "options"):
            assert "400" in operation["responses"], f"{method.upper()} {path}"


def test_signed_in_operations_document_401_and_id_paths_document_404(openapi):
    for path, method, operation in _operations(openapi):
        if operation["security"]:
            assert "401" in operation["responses"], f"{method.upper()} {path}"
        if "{" in path:
            assert "404" in operation["responses"], f"{method.upper()} {path}"


def test_paginated_lists_document_their_page_size_bounds(openapi):
    limits = [(path, parameter) for path, _, operation in _operations(openapi)
              for parameter in operation["parameters"] if parameter["name"] == "limit"]
    assert limits, "expected at least one paginated list"
    for path, limit in limits:
        assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 200), path


def test_the_real_app_has_no_undocumented_api_endpoints(app):
    assert undocumented_endpoints(app) == []


def test_every_documented_operation_exists_in_the_url_map(app, openapi):
    rules = _documented_rules(app)
    for path, method, _ in _operations(openapi):
        assert path in rules, f"{path} is documented but not routed"
        assert method in rules[path], f"{method.upper()} {path} is documented but not routed"


def test_the_guard_reports_a_plain_route_under_the_api_prefix():
    app = create_app(app_config())
    extra = Blueprint("extra_api", __name__, url_prefix=API_PREFIX)

    @extra.get("/secret-report")
    def secret_report():
        """A route someone forgot to declare with ``endpoint()``."""
        return jsonify(ok=True)

    app.register_blueprint(extra)
    assert undocumented_endpoints(app) == ["GET /api/v1/secret-report"]
    paths = app.test_client().get(OPENAPI_PATH).get_json()["paths"]
    assert "/api/v1/secret-report" not in paths


def test_the_guard_reports_a_method_the_description_does_not_cover():
    app = create_app(app_config())
    extra = Blueprint("extra_api", __name__, url_prefix=API_PREFIX)

    def report():
        """Described for GET, but routed for GET and POST."""
        return jsonify(ok=True)

    report._api_spec = EndpointSpec(method="GET", summary="A report", body=None, query=None,
                                    response=None, status=200, auth=False, errors=())
    extra.add_url_rule("/report", "report", report, methods=["GET", "POST"])
    app.register_blueprint(extra)
    assert undocumented_endpoints(app) == ["POST /api/v1/report"]


def test_the_guard_ignores_routes_outside_the_api():
    app = create_app(app_config())
    extra = Blueprint("extra_pages", __name__)

    @extra.get("/about-us")
    def about():
        """A page, not an API endpoint."""
        return "About"

    app.register_blueprint(extra)
    assert undocumented_endpoints(app) == []


# --- the response validator itself --------------------------------------------------------------

def _response(app, body, status: int = 200, mimetype: str = "application/json"):
    """A response object as a view would produce it."""
    data = json.dumps(body) if mimetype == "application/json" else body
    return app.response_class(data, status=status, mimetype=mimetype)


ME = {"id": 1, "email": "a@example.com", "name": "A", "timezone": "UTC", "is_admin": False,
      "can_own_programs": False,
      "cohorts": [{"cohort_id": 1, "cohort_name": "C", "program_id": 2, "program_title": "P",
                   "role": "learner"}]}


def test_the_validator_accepts_a_matching_response(app, response_validator):
    response_validator.validate("GET", "/api/v1/me", _response(app, ME))
    error = {"error": {"code": "not_found", "message": "Nothing was found here."}}
    response_validator.validate("GET", "/api/v1/cohorts/7", _response(app, error, 404))


@pytest.mark.parametrize("body", [
    {**ME, "id": "one"},
    {key: value for key, value in ME.items() if key != "email"},
    {**ME, "cohorts": [{**ME["cohorts"][0], "cohort_id": None}]},
], ids=["wrong-type", "missing-field", "nested-ref-mismatch"])
def test_the_validator_rejects_a_body_that_does_not_match(app, response_validator, body):
    with pytest.raises(ValidationError):
        response_validator.validate("GET", "/api/v1/me", _response(app, body))


def test_the_validator_rejects_an_error_without_the_envelope(app, response_validator):
    with pytest.raises(ValidationError):
        response_validator.validate("GET", "/api/v1/cohorts/7",
                                    _response(app, {"message": "gone"}, 404))


def test_the_validator_rejects_an_undocumented_status(app, response_validator):
    with pytest.raises(AssertionError, match="does not declare"):
        response_validator.validate("GET", "/api/v1/me", _response(app, ME, 202))


def test_the_validator_rejects_the_wrong_content_type(app, response_validator):
    with pytest.raises(AssertionError, match="text/html"):
        response_validator.validate("GET", "/api/v1/me",
                                    _response(app, "<p>hi</p>", mimetype="text/html"))


def test_the_validator_rejects_a_body_on_a_no_content_response(app, response_validator):
    with pytest.raises(AssertionError, match="no body"):
        response_validator.validate("DELETE", "/api/v1/tokens/3", _response(app, {}, 204))


def test_the_validator_rejects_success_from_an_undocumented_route(app, response_validator):
    with pytest.raises(AssertionError, match="not documented"):
        response_validator.validate("GET", "/api/v1/secret-report", _response(app, {}))
