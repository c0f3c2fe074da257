"""AUTH-1: nobody reads across cohorts; invisible and absent look the same (404).

Two cohorts, A and B, of different programs and owners. Each role is asked for cohort A,
A's program and A's page, through a bearer token and through the session cookie.
"""

from dataclasses import dataclass

import pytest

from app.accounts.models import User
from app.cohorts.models import Cohort
from tests.factories import add_member
from tests.http import bearer
from tests.worlds import two_cohorts

#: role → (GET /api/v1/cohorts/{A}, GET /api/v1/programs/{A's program}, GET /cohorts/{A})
MATRIX = {
    "learner_a": (200, 404, 200),
    "facilitator_a": (200, 404, 200),
    "learner_b": (404, 404, 404),
    "facilitator_b": (404, 404, 404),
    "owner_a": (200, 200, 200),
    # Owner A after a facilitator enrolled them in A as a learner: still the owner.
    "owner_demoted_a": (200, 200, 200),
    # Owner A after a site admin withdrew the program-owner right: told why, nothing shown.
    "former_owner_a": (403, 403, 403),
    "owner_b": (404, 404, 404),
    "admin": (404, 404, 404),
}
MY_ROLE = {"learner_a": "learner", "facilitator_a": "facilitator", "owner_a": "owner",
           "owner_demoted_a": "owner"}
#: Peer review work: every endpoint × every role around cohort A.
WORK_MATRIX = "tests/peer_review/test_board_api.py::test_every_work_endpoint_answers_each_role"
#: Announcements: every address × every role around cohort A.
ANNOUNCEMENTS = ("tests/cohorts/test_announcements.py::"
                 "test_every_announcement_address_answers_each_role")
#: The cohort's people: the page and the API × every role around cohort A.
PEOPLE = "tests/cohorts/test_people.py::test_every_people_address_answers_each_role"
#: Routes taking an object id, and the test that checks them across owners.
ID_ROUTES = {
    "/api/v1/cohorts/<int:cohort_id>": "the matrix above",
    "/api/v1/programs/<int:program_id>": "the matrix above",
    "/cohorts/<int:cohort_id>": "the matrix above",
    "/api/v1/users/<int:user_id>":
        "tests/accounts/test_api.py::test_only_site_admins_change_site_rights",
    "/api/v1/tokens/<int:token_id>":
        "test_accounts_api.py::test_someone_elses_token_is_not_found_and_keeps_working",
    "/settings/tokens/<int:token_id>/revoke": "tests/accounts (a person's own tokens)",
    "/admin/users/<int:user_id>/roles": "tests/accounts (site admins only)",
    "/admin/users/<int:user_id>/disable":
        "tests/accounts/test_admin_users.py::test_only_site_admins_reach_disable_and_enable",
    "/admin/users/<int:user_id>/enable":
        "tests/accounts/test_admin_users.py::test_only_site_admins_reach_disable_and_enable",
    "/cohorts/<int:cohort_id>/welcome":
        "tests/cohorts/test_welcome.py::test_only_members_dismiss_their_own_welcome",
    "/cohorts/<int:cohort_id>/modules/<int:module_id>":
        "tests/cohorts/test_release_access.py (every role)",
    "/cohorts/<int:cohort_id>/modules/<int:module_id>/release":
        "tests/cohorts/test_release_access.py (every role)",
    "/cohorts/<int:cohort_id>/modules/<int:module_id>/schedule":
        "tests/cohorts/test_release_access.py (every role)",
    "/api/v1/cohorts/<int:cohort_id>/modules":
        "tests/cohorts/test_release_access.py (every role)",
    "/api/v1/cohorts/<int:cohort_id>/releases/<int:module_id>":
        "tests/cohorts/test_release_access.py (every role)",
    "/api/v1/cohorts/<int:cohort_id>/modules/<int:module_id>/completion":
        "tests/cohorts/test_progress.py::test_completion_access_through_the_api",
    "/cohorts/<int:cohort_id>/modules/<int:module_id>/completion":
        "tests/cohorts/test_progress.py::test_completion_access_through_the_page",
    "/api/v1/threads/<int:thread_id>":
        "tests/discussions/test_posts_api.py::test_other_cohorts_and_outsiders_get_404",
    "/api/v1/threads/<int:thread_id>/posts":
        "tests/discussions/test_posts_api.py::test_other_cohorts_and_outsiders_get_404",
    "/api/v1/posts/<int:post_id>":
        "tests/discussions/test_posts_api.py::test_other_cohorts_and_outsiders_get_404",
    "/api/v1/posts/<int:post_id>/revisions":
        "tests/discussions/test_posts_api.py::test_replies_edits_and_stale_versions",
    "/api/v1/posts/<int:post_id>/reactions/<kind>":
        "tests/discussions/test_posts_api.py::test_other_cohorts_and_outsiders_get_404",
    "/api/v1/threads/<int:thread_id>/draft":
        "tests/discussions/test_posts_api.py::test_drafts_round_trip",
    "/api/v1/cohorts/<int:cohort_id>/export.csv":
        "tests/discussions/test_posts_api.py::"
        "test_staff_export_posts_with_authors_as_they_may_see_them",
    "/api/v1/cohorts/<int:cohort_id>/discussion-settings":
        "tests/discussions/test_posts_api.py::"
        "test_a_weaker_policy_never_exposes_posts_already_written",
    "/programs/<int:program_id>":
        "tests/cohorts/test_programs_api.py::test_authoring_pages_access_matrix",
    "/programs/<int:program_id>/launch":
        "tests/cohorts/test_programs_api.py::test_authoring_pages_access_matrix",
    "/programs/<int:program_id>/edit":
        "tests/cohorts/test_programs_api.py::test_authoring_pages_access_matrix",
    "/programs/<int:program_id>/modules/new":
        "tests/cohorts/test_programs_api.py::test_authoring_pages_access_matrix",
    "/programs/<int:program_id>/modules/sort":
        "tests/cohorts/test_programs_api.py::test_authoring_pages_access_matrix",
    "/programs/<int:program_id>/release-dates":
        "tests/cohorts/test_programs_api.py::test_authoring_pages_access_matrix",
    "/programs/<int:program_id>/modules/<int:module_id>/edit":
        "tests/cohorts/test_programs_api.py::test_authoring_pages_access_matrix",
    "/programs/<int:program_id>/modules/<int:module_id>/preview":
        "tests/cohorts/test_programs_api.py::test_authoring_pages_access_matrix",
    "/programs/<int:program_id>/modules/<int:module_id>/move":
        "tests/cohorts/test_programs_api.py::test_authoring_pages_access_matrix",
    "/programs/<int:program_id>/modules/<int:module_id>/delete":
        "tests/cohorts/test_programs_api.py::test_authoring_pages_access_matrix",
    "/api/v1/programs/<int:program_id>/modules":
        "tests/cohorts/test_programs_api.py::test_authoring_api_access_matrix",
    "/api/v1/programs/<int:program_id>/cohorts":
        "tests/cohorts/test_programs_api.py::test_authoring_api_access_matrix",
    "/api/v1/modules/<int:module_id>":
        "tests/cohorts/test_programs_api.py::test_authoring_api_access_matrix",
    "/cohorts/<int:cohort_id>/members":
        "tests/cohorts/test_roster.py::test_every_roster_address_answers_each_role",
    "/cohorts/<int:cohort_id>/members/import":
        "tests/cohorts/test_roster.py::test_every_roster_address_answers_each_role",
    "/cohorts/<int:cohort_id>/members/<int:user_id>/remove":
        "tests/cohorts/test_roster.py::test_every_roster_address_answers_each_role",
    "/api/v1/cohorts/<int:cohort_id>/members":
        "tests/cohorts/test_roster.py::test_every_roster_address_answers_each_role",
    "/api/v1/cohorts/<int:cohort_id>/members/import":
        "tests/cohorts/test_roster.py::test_every_roster_address_answers_each_role",
    "/api/v1/cohorts/<int:cohort_id>/members/<int:user_id>":
        "tests/cohorts/test_roster.py::test_every_roster_address_answers_each_role",
    "/cohorts/<int:cohort_id>/announcements": ANNOUNCEMENTS,
    "/cohorts/<int:cohort_id>/announcements/new": ANNOUNCEMENTS,
    "/cohorts/<int:cohort_id>/announcements/<int:announcement_id>/pin": ANNOUNCEMENTS,
    "/cohorts/<int:cohort_id>/announcements/<int:announcement_id>/delete": ANNOUNCEMENTS,
    "/api/v1/cohorts/<int:cohort_id>/announcements": ANNOUNCEMENTS,
    "/cohorts/<int:cohort_id>/people": PEOPLE,
    "/api/v1/cohorts/<int:cohort_id>/people": PEOPLE,
    "/api/v1/cohorts/<int:cohort_id>/members/<int:user_id>/nudge":
        "tests/cohorts/test_members_view.py::test_every_members_address_answers_each_role",
    "/cohorts/<int:cohort_id>/members/<int:user_id>/nudge":
        "tests/cohorts/test_members_view.py::test_every_members_address_answers_each_role",
    "/modules/<int:module_id>/prompts/new":
        "tests/discussions/test_http.py::test_only_the_owner_reaches_prompt_pages",
    "/modules/<int:module_id>/prompts/<int:prompt_id>/edit":
        "tests/discussions/test_http.py::test_only_the_owner_reaches_prompt_pages",
    "/modules/<int:module_id>/prompts/<int:prompt_id>/delete":
        "tests/discussions/test_http.py::test_only_the_owner_reaches_prompt_pages",
    "/api/v1/modules/<int:module_id>/prompts":
        "tests/discussions/test_api.py::test_another_owners_module_is_not_found",
    "/api/v1/modules/<int:module_id>/prompts/<int:prompt_id>":
        "tests/discussions/test_api.py::test_another_owners_module_is_not_found",
    "/api/v1/posts/<int:post_id>/flags":
        "tests/discussions/test_moderation_api.py::test_flags_hide_a_post_and_a_restore_shows_it",
    "/api/v1/posts/<int:post_id>/moderation":
        "tests/discussions/test_moderation_api.py::test_every_endpoint_answers_each_role",
    "/api/v1/threads/<int:thread_id>/moderation":
        "tests/discussions/test_moderation_api.py::test_every_endpoint_answers_each_role",
    "/api/v1/cohorts/<int:cohort_id>/flags":
        "tests/discussions/test_moderation_api.py::test_every_endpoint_answers_each_role",
    "/api/v1/cohorts/<int:cohort_id>/members/<int:user_id>/mute":
        "tests/discussions/test_moderation_api.py::test_every_endpoint_answers_each_role",
    "/api/v1/posts/<int:post_id>/reveal":
        "tests/discussions/test_moderation_api.py::test_every_endpoint_answers_each_role",
    "/api/v1/reveals/<int:reveal_id>":
        "tests/discussions/test_moderation_api.py::test_every_endpoint_answers_each_role",
    "/api/v1/reveals/<int:reveal_id>/approve":
        "tests/discussions/test_moderation_api.py::test_every_endpoint_answers_each_role",
    "/api/v1/reveals/<int:reveal_id>/decline":
        "tests/discussions/test_moderation_api.py::test_every_endpoint_answers_each_role",
    "/posts/<int:post_id>/flag":
        "tests/discussions/test_moderation_pages.py::test_report_form_access",
    "/posts/<int:post_id>/moderate":
        "tests/discussions/test_moderation_pages.py::test_every_page_answers_each_role",
    "/threads/<int:thread_id>/moderate":
        "tests/discussions/test_moderation_pages.py::test_every_page_answers_each_role",
    "/cohorts/<int:cohort_id>/flags":
        "tests/discussions/test_moderation_pages.py::test_every_page_answers_each_role",
    "/cohorts/<int:cohort_id>/members/<int:user_id>/mute":
        "tests/discussions/test_moderation_pages.py::test_every_page_answers_each_role",
    "/cohorts/<int:cohort_id>/members/<int:user_id>/unmute":
        "tests/discussions/test_moderation_pages.py::test_every_page_answers_each_role",
    "/posts/<int:post_id>/reveal":
        "tests/discussions/test_moderation_pages.py::test_every_page_answers_each_role",
    "/reveals/<int:reveal_id>":
        "tests/discussions/test_moderation_pages.py::test_every_page_answers_each_role",
    "/reveals/<int:reveal_id>/approve":
        "tests/discussions/test_moderation_pages.py::test_every_page_answers_each_role",
    "/reveals/<int:reveal_id>/decline":
        "tests/discussions/test_moderation_pages.py::test_every_page_answers_each_role",
    "/threads/<int:thread_id>":
        "tests/discussions/test_thread_pages.py::test_other_cohorts_and_outsiders_get_404_everywhere",
    "/threads/<int:thread_id>/posts":
        "tests/discussions/test_thread_pages.py::test_other_cohorts_and_outsiders_get_404_everywhere",
    "/posts/<int:post_id>/edit":
        "tests/discussions/test_thread_pages.py::test_other_cohorts_and_outsiders_get_404_everywhere",
    "/posts/<int:post_id>/delete":
        "tests/discussions/test_thread_pages.py::test_other_cohorts_and_outsiders_get_404_everywhere",
    "/posts/<int:post_id>/revisions":
        "tests/discussions/test_thread_pages.py::test_other_cohorts_and_outsiders_get_404_everywhere",
    "/posts/<int:post_id>/reply":
        "tests/discussions/test_thread_pages.py::test_other_cohorts_and_outsiders_get_404_everywhere",
    "/threads/<int:thread_id>/reactions":
        "tests/discussions/test_thread_pages.py::test_other_cohorts_and_outsiders_get_404_everywhere",
    "/modules/<int:module_id>/assignments/new":
        "tests/peer_review/test_http.py::test_only_the_owner_reaches_assignment_pages",
    "/modules/<int:module_id>/assignments/<int:assignment_id>/edit":
        "tests/peer_review/test_http.py::test_only_the_owner_reaches_assignment_pages",
    "/modules/<int:module_id>/assignments/<int:assignment_id>/delete":
        "tests/peer_review/test_http.py::test_only_the_owner_reaches_assignment_pages",
    "/api/v1/modules/<int:module_id>/assignments":
        "tests/peer_review/test_api.py::test_another_owners_module_is_not_found",
    "/api/v1/modules/<int:module_id>/assignments/<int:assignment_id>":
        "tests/peer_review/test_api.py::test_another_owners_module_is_not_found",
    "/api/v1/assignments/<int:assignment_id>": WORK_MATRIX,
    "/api/v1/assignments/<int:assignment_id>/submissions": WORK_MATRIX,
    "/api/v1/assignments/<int:assignment_id>/reviews": WORK_MATRIX,
    "/api/v1/assignments/<int:assignment_id>/board": WORK_MATRIX,
    "/api/v1/reviews/<int:review_id>": WORK_MATRIX,
    "/api/v1/reviews/<int:review_id>/rating": WORK_MATRIX,
    "/api/v1/reviews/<int:review_id>/release": WORK_MATRIX,
    "/api/v1/reviews/<int:review_id>/hide": WORK_MATRIX,
    "/api/v1/reviews/<int:review_id>/reassign": WORK_MATRIX,
    "/api/v1/submissions/<int:submission_id>": WORK_MATRIX,
    "/api/v1/submissions/<int:submission_id>/attachment": WORK_MATRIX,
    "/api/v1/submissions/<int:submission_id>/reviewers": WORK_MATRIX,
    "/api/v1/cohorts/<int:cohort_id>/review-status": WORK_MATRIX,
    "/assignments/<int:assignment_id>":
        "tests/peer_review/test_work_pages.py::"
        "test_every_work_route_answers_each_role_as_it_should",
    "/assignments/<int:assignment_id>/submission":
        "tests/peer_review/test_work_pages.py::"
        "test_every_work_route_answers_each_role_as_it_should",
    "/assignments/<int:assignment_id>/reviews":
        "tests/peer_review/test_work_pages.py::"
        "test_every_work_route_answers_each_role_as_it_should",
    "/assignments/<int:assignment_id>/board":
        "tests/peer_review/test_work_pages.py::"
        "test_every_work_route_answers_each_role_as_it_should",
    "/assignments/<int:assignment_id>/board/assign":
        "tests/peer_review/test_work_pages.py::"
        "test_every_work_route_answers_each_role_as_it_should",
    "/reviews/<int:review_id>":
        "tests/peer_review/test_work_pages.py::"
        "test_every_work_route_answers_each_role_as_it_should",
    "/reviews/<int:review_id>/rating":
        "tests/peer_review/test_work_pages.py::"
        "test_every_work_route_answers_each_role_as_it_should",
    "/reviews/<int:review_id>/reassign":
        "tests/peer_review/test_work_pages.py::"
        "test_every_work_route_answers_each_role_as_it_should",
    "/reviews/<int:review_id>/release":
        "tests/peer_review/test_work_pages.py::"
        "test_every_work_route_answers_each_role_as_it_should",
    "/reviews/<int:review_id>/hide":
        "tests/peer_review/test_work_pages.py::"
        "test_every_work_route_answers_each_role_as_it_should",
    "/submissions/<int:submission_id>":
        "tests/peer_review/test_work_pages.py::"
        "test_every_work_route_answers_each_role_as_it_should",
    "/submissions/<int:submission_id>/attachment":
        "tests/peer_review/test_work_pages.py::"
        "test_every_work_route_answers_each_role_as_it_should",
}


#: Site-wide admin pages (no object id): 200 for the site admin, 404 for every other role,
#: a sign-in redirect for visitors. Every route under /admin must be listed here or in
#: ID_ROUTES.
ADMIN_ROUTES = ("/admin", "/admin/search", "/admin/audit", "/admin/users")


@dataclass
class World:
    """The two cohorts and everyone around them."""

    cohort_a: int
    program_a: int
    cohort_a_name: str
    cohort_b: int
    people: dict
    tokens: dict


@pytest.fixture
def world(db) -> World:
    """Cohorts A and B with a learner, a facilitator and an owner each, and a site admin."""
    with db() as session:
        world = two_cohorts(session).with_tokens(session)
        return World(cohort_a=world.cohort_a.id, program_a=world.program_a.id,
                     cohort_a_name=world.cohort_a.name, cohort_b=world.cohort_b.id,
                     people=world.people, tokens=world.tokens)


def _become(call, client, db, world: World, role: str) -> None:
    """Turn owner A into the owner variants of the matrix (the others need nothing).

    ``owner_demoted_a``: facilitator A tries to enrol the owner as a learner (refused now),
    and a learner membership from before that refusal is in the database anyway.
    ``former_owner_a``: a site admin withdraws the program-owner right through the API.
    """
    owner = world.people["owner_a"]
    if role == "owner_demoted_a":
        demote = call(client, "POST", f"/api/v1/cohorts/{world.cohort_a}/members",
                      json={"email": owner.email, "role": "learner"},
                      headers=bearer(world.tokens["facilitator_a"]))
        assert demote.status_code == 409
        assert demote.get_json()["error"]["code"] == "already_member"
        with db() as session:
            add_member(session, session.get(Cohort, world.cohort_a),
                       session.get(User, owner.id))
    elif role == "former_owner_a":
        withdrawn = call(client, "PATCH", f"/api/v1/users/{owner.id}",
                         json={"can_own_programs": False},
                         headers=bearer(world.tokens["admin"]))
        assert withdrawn.status_code == 200
    if role in ("owner_demoted_a", "former_owner_a"):
        world.people[role] = owner
        world.tokens[role] = world.tokens["owner_a"]


def _api_paths(world: World) -> tuple[str, str]:
    """The API addresses of cohort A and of its program."""
    return f"/api/v1/cohorts/{world.cohort_a}", f"/api/v1/programs/{world.program_a}"


def test_every_route_with_an_object_id_is_checked_across_owners(app):
    """A new route with an id must join the matrix (or name the test that covers it)."""
    routes = {rule.rule for rule in app.url_map.iter_rules() if "<int:" in rule.rule}
    assert routes - set(ID_ROUTES) == set(), "add these routes to the access matrix"


@pytest.mark.parametrize("role", sorted(MATRIX))
def test_api_access_with_a_bearer_token(call, client, db, world, role):
    _become(call, client, db, world, role)
    cohort_path, program_path = _api_paths(world)
    headers = bearer(world.tokens[role])
    expected_cohort, expected_program, _ = MATRIX[role]
    cohort = call(client, "GET", cohort_path, headers=headers)
    program = call(client, "GET", program_path, headers=headers)
    assert (cohort.status_code, program.status_code) == (expected_cohort, expected_program)
    if expected_cohort == 200:
        assert cohort.get_json()["id"] == world.cohort_a
        assert cohort.get_json()["my_role"] == MY_ROLE[role]
    if expected_program == 200:
        assert program.get_json()["id"] == world.program_a
    if 403 in (expected_cohort, expected_program):
        assert cohort.get_json()["error"]["code"] == "owner_right_withdrawn"
        assert "withdrawn" in program.get_json()["error"]["message"]


@pytest.mark.parametrize("role", sorted(MATRIX))
def test_api_and_page_access_with_the_session_cookie(call, client, db, login, world, role):
    _become(call, client, db, world, role)
    login(client, world.people[role])
    cohort_path, program_path = _api_paths(world)
    expected_cohort, expected_program, expected_page = MATRIX[role]
    assert call(client, "GET", cohort_path).status_code == expected_cohort
    assert call(client, "GET", program_path).status_code == expected_program
    page = client.get(f"/cohorts/{world.cohort_a}")
    assert page.status_code == expected_page
    assert page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    if expected_page == 200:
        assert world.cohort_a_name in text
    else:
        assert world.cohort_a_name not in text


@pytest.mark.parametrize("role", [r for r, codes in MATRIX.items() if codes[0] == 404])
def test_an_invisible_cohort_looks_exactly_like_a_missing_one(call, client, world, role):
    headers = bearer(world.tokens[role])
    hidden = call(client, "GET", f"/api/v1/cohorts/{world.cohort_a}", headers=headers)
    missing = call(client, "GET", "/api/v1/cohorts/987654", headers=headers)
    assert hidden.get_json() == missing.get_json()
    hidden_program = call(client, "GET", f"/api/v1/programs/{world.program_a}", headers=headers)
    missing_program = call(client, "GET", "/api/v1/programs/987654", headers=headers)
    assert hidden_program.get_json() == missing_program.get_json()


def test_members_of_b_still_reach_their_own_cohort(call, client, world):
    for role in ("learner_b", "facilitator_b", "owner_b"):
        response = call(client, "GET", f"/api/v1/cohorts/{world.cohort_b}",
                        headers=bearer(world.tokens[role]))
        assert response.status_code == 200, role


def test_anonymous_callers_get_401_from_the_api_and_a_redirect_from_the_page(call, client,
                                                                              world):
    cohort_path, program_path = _api_paths(world)
    for path in (cohort_path, program_path):
        response = call(client, "GET", path)
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "not_signed_in"
    page = client.get(f"/cohorts/{world.cohort_a}")
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/login")


def test_only_staff_see_the_roster_on_the_page(client, login, world):
    learner_b_email = world.people["learner_b"].email
    facilitator_email = world.people["facilitator_a"].email
    roster_path = f"/cohorts/{world.cohort_a}/members"
    login(client, world.people["learner_a"])
    page = client.get(f"/cohorts/{world.cohort_a}").get_data(as_text=True)
    assert facilitator_email not in page and roster_path not in page
    assert client.get(roster_path).status_code == 403
    client.post_form("/logout", {}, token_from="/")
    login(client, world.people["facilitator_a"])
    assert roster_path in client.get(f"/cohorts/{world.cohort_a}").get_data(as_text=True)
    page = client.get(roster_path).get_data(as_text=True)
    assert world.people["learner_a"].email in page
    assert learner_b_email not in page


def test_every_admin_route_is_in_the_matrix(app):
    """A new /admin page must join ADMIN_ROUTES (or ID_ROUTES, when it takes an id)."""
    routes = {rule.rule for rule in app.url_map.iter_rules()
              if rule.rule == "/admin" or rule.rule.startswith("/admin/")}
    assert routes - set(ADMIN_ROUTES) - set(ID_ROUTES) == set()


@pytest.mark.parametrize("role", sorted(MATRIX))
def test_only_the_site_admin_reaches_the_admin_pages(call, client, db, login, world, role):
    _become(call, client, db, world, role)
    login(client, world.people[role])
    expected = 200 if role == "admin" else 404
    for path in ADMIN_ROUTES:
        response = client.get(path)
        assert response.status_code == expected, (role, path)
        if expected == 404:
            assert world.cohort_a_name not in response.get_data(as_text=True)


def test_visitors_are_sent_to_sign_in_from_the_admin_pages(client):
    for path in ADMIN_ROUTES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login")
