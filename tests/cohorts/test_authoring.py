"""Program authoring: programs, goals and modules edited, reordered and deleted by their owner."""

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select

from app.cohorts import authoring as authoring_rules
from app.cohorts.authoring import (
    add_module,
    delete_module,
    launch_cohort,
    move_module,
    update_module,
    update_program,
)
from app.cohorts.models import CohortModule, Module, Program, ProgramGoal
from app.errors import Invalid, NotAllowed, NotFound
from tests.factories import create_module, create_program, create_user

NOW = datetime(2026, 2, 1, 12, tzinfo=UTC)
LATER = datetime(2026, 2, 2, 12, tzinfo=UTC)


@pytest.fixture
def authored(db):
    """An owner's program with four modules (A, B, C, D), another owner and a learner."""
    with db() as session:
        owner = create_user(session, can_own_programs=True)
        program = create_program(session, owner=owner, title="Feedback culture")
        for title in "ABCD":
            create_module(session, program, title=title)
        other_owner = create_user(session, can_own_programs=True)
        learner = create_user(session)
        module_ids = [m.id for m in program.modules]
    return {"owner": owner, "program": program.id, "modules": module_ids,
            "other_owner": other_owner, "learner": learner}


def titles_in_order(db, program_id: int) -> list[tuple[int, str]]:
    """The program's (position, title) pairs, as stored."""
    with db() as session:
        return [(m.position, m.title) for m in session.scalars(
            select(Module).where(Module.program_id == program_id).order_by(Module.position))]


def goals_of(db, program_id: int) -> list[tuple[int, int, str]]:
    """The program's (id, position, text) goals, as stored."""
    with db() as session:
        return [(g.id, g.position, g.text) for g in session.scalars(
            select(ProgramGoal).where(ProgramGoal.program_id == program_id)
            .order_by(ProgramGoal.position))]


# --- services ----------------------------------------------------------------------------------

def test_only_program_owners_create_programs(app, db):
    with db() as session:
        learner = create_user(session)
        admin = create_user(session, is_admin=True)
    with app.app_context():
        for user in (learner, admin):
            with pytest.raises(NotAllowed):
                authoring_rules.create_program(user, title="Mine", now=NOW)


def test_create_program_reports_every_bad_field_at_once(app, db, authored):
    with app.app_context(), pytest.raises(Invalid) as error:
        authoring_rules.create_program(authored["owner"], title=" ", goals=["x" * 201], now=NOW)
    assert set(error.value.fields) == {"title", "goals"}


def test_update_program_replaces_goals_in_order_and_keeps_the_ones_kept(app, db, authored):
    owner, program_id = authored["owner"], authored["program"]
    with app.app_context():
        update_program(owner, program_id, title="Feedback", summary="S",
                       goals=["Listen", "Ask", "Thank"], now=NOW)
    before = {text: goal_id for goal_id, _, text in goals_of(db, program_id)}
    with app.app_context():
        program = update_program(owner, program_id, title="  Kind feedback  ",
                                 summary="New summary",
                                 goals=["Thank", " ", "Name the behaviour", "Listen"],
                                 now=LATER)
        assert [g.text for g in program.goals] == ["Thank", "Name the behaviour", "Listen"]
    after = goals_of(db, program_id)
    assert [(position, text) for _, position, text in after] == [
        (0, "Thank"), (1, "Name the behaviour"), (2, "Listen")]
    kept = {text: goal_id for goal_id, _, text in after}
    assert kept["Thank"] == before["Thank"] and kept["Listen"] == before["Listen"]
    with db() as session:
        stored = session.get(Program, program_id)
        assert (stored.title, stored.summary, stored.updated_at) == ("Kind feedback",
                                                                     "New summary", LATER)


def test_update_program_can_clear_goals_and_handles_duplicates(app, db, authored):
    owner, program_id = authored["owner"], authored["program"]
    with app.app_context():
        update_program(owner, program_id, title="T", summary="",
                       goals=["Same", "Same", "Other"], now=NOW)
        update_program(owner, program_id, title="T", summary="",
                       goals=["Other", "Same"], now=NOW)
    assert [text for _, _, text in goals_of(db, program_id)] == ["Other", "Same"]
    with app.app_context():
        update_program(owner, program_id, title="T", summary="", goals=[], now=NOW)
    assert goals_of(db, program_id) == []


def test_update_program_validates_and_changes_nothing_on_error(app, db, authored):
    owner, program_id = authored["owner"], authored["program"]
    with app.app_context(), pytest.raises(Invalid) as error:
        update_program(owner, program_id, title="", summary="x",
                       goals=["g" * 201], now=NOW)
    assert set(error.value.fields) == {"title", "goals"}
    with db() as session:
        assert session.get(Program, program_id).title == "Feedback culture"


@pytest.mark.parametrize("who", ["other_owner", "learner"])
def test_nobody_else_edits_a_program_or_its_modules(app, db, authored, who):
    user, module_id = authored[who], authored["modules"][0]
    with app.app_context():
        calls = [
            lambda: update_program(user, authored["program"], title="X", summary="",
                                   goals=[], now=NOW),
            lambda: add_module(user, authored["program"], title="X"),
            lambda: update_module(user, module_id, title="X", body="",
                                  release_offset_days=0, release_time=time(9)),
            lambda: move_module(user, module_id, 2),
            lambda: delete_module(user, module_id),
            lambda: launch_cohort(user, authored["program"], name="X",
                                  starts_on=date(2026, 3, 2), timezone="UTC",
                                  anonymity="off", now=NOW),
        ]
        for call in calls:
            with pytest.raises(NotFound):
                call()
    assert titles_in_order(db, authored["program"]) == [(0, "A"), (1, "B"), (2, "C"), (3, "D")]


def test_update_module_changes_content_and_release(app, db, authored):
    module_id = authored["modules"][1]
    with app.app_context():
        update_module(authored["owner"], module_id, title=" Better B ",
                      body="**New**", release_offset_days=14,
                      release_time=time(7, 30))
    with db() as session:
        module = session.get(Module, module_id)
        assert (module.title, module.body, module.release_offset_days, module.release_time) == (
            "Better B", "**New**", 14, time(7, 30))


def test_update_module_reports_every_bad_field_and_changes_nothing(app, db, authored):
    with app.app_context(), pytest.raises(Invalid) as error:
        update_module(authored["owner"], authored["modules"][0], title="",
                      body="x" * 100_001, release_offset_days=-1,
                      release_time=time(9), position=4)
    assert set(error.value.fields) == {"title", "body", "release_offset_days", "position"}
    assert titles_in_order(db, authored["program"]) == [(0, "A"), (1, "B"), (2, "C"), (3, "D")]


@pytest.mark.parametrize("start", range(4))
def test_move_module_puts_it_anywhere_and_the_others_close_up(app, db, authored, start):
    """Every move of every module, on both databases (positions are unique per program)."""
    owner, program_id = authored["owner"], authored["program"]
    for target in range(4):
        with db() as session:
            order = [m.title for m in session.scalars(
                select(Module).where(Module.program_id == program_id)
                .order_by(Module.position))]
            moving = session.scalar(select(Module.id).where(
                Module.program_id == program_id, Module.position == start))
        with app.app_context():
            move_module(owner, moving, target)
        title = order.pop(start)
        order.insert(target, title)
        assert titles_in_order(db, program_id) == list(enumerate(order)), (start, target)


def test_move_module_refuses_a_position_outside_the_program(app, db, authored):
    with app.app_context():
        for position in (-1, 4):
            with pytest.raises(Invalid) as error:
                move_module(authored["owner"], authored["modules"][0], position)
            assert "position" in error.value.fields


def test_update_module_with_a_position_edits_and_moves_in_one_go(app, db, authored):
    with app.app_context():
        update_module(authored["owner"], authored["modules"][3], title="D2", body="",
                      release_offset_days=3, release_time=time(9), position=0)
    assert titles_in_order(db, authored["program"]) == [(0, "D2"), (1, "A"), (2, "B"), (3, "C")]


def test_move_closes_gaps_left_by_older_positions(app, db):
    with db() as session:
        owner = create_user(session, can_own_programs=True)
        program = create_program(session, owner=owner)
        first = create_module(session, program, title="First", position=3)
        create_module(session, program, title="Second", position=10)
    with app.app_context():
        move_module(owner, first.id, 1)
    assert titles_in_order(db, program.id) == [(0, "Second"), (1, "First")]


def test_delete_module_renumbers_the_rest_and_running_cohorts_keep_their_copy(app, db,
                                                                               authored):
    owner, program_id = authored["owner"], authored["program"]
    with app.app_context():
        cohort = launch_cohort(owner, program_id, name="Running",
                               starts_on=date(2026, 3, 2), timezone="UTC",
                               anonymity="peers", now=NOW)
        move_module(owner, authored["modules"][3], 0)  # D A B C
        delete_module(owner, authored["modules"][0])   # D B C
    assert titles_in_order(db, program_id) == [(0, "D"), (1, "B"), (2, "C")]
    with db() as session:
        copies = session.scalars(select(CohortModule).where(CohortModule.cohort_id == cohort.id)
                                 .order_by(CohortModule.position)).all()
        assert [c.title for c in copies] == ["A", "B", "C", "D"]
        assert copies[0].module_id is None
        assert session.get(Module, authored["modules"][0]) is None


# --- pages -------------------------------------------------------------------------------------

def test_an_owner_creates_a_program_from_the_home_page(app, db, client, login):
    with db() as session:
        owner = create_user(session, can_own_programs=True)
    login(client, owner)
    home = client.get("/").get_data(as_text=True)
    assert 'href="/programs/new"' in home
    response = client.post_form("/programs/new", {
        "title": "Inclusive meetings", "summary": "Run meetings where everyone speaks.",
        "goals": "Invite quiet voices\r\n\r\n  Share the agenda early  \n", "submit": "Save"})
    assert response.status_code == 302
    with db() as session:
        program = session.scalar(select(Program).where(Program.owner_id == owner.id))
        assert [g.text for g in program.goals] == ["Invite quiet voices",
                                                   "Share the agenda early"]
    assert response.headers["Location"] == f"/programs/{program.id}"
    home = client.get("/").get_data(as_text=True)
    assert f'href="/programs/{program.id}"' in home


def test_a_bad_new_program_form_comes_back_with_messages_and_the_typed_input(app, db, client,
                                                                              login):
    with db() as session:
        owner = create_user(session, can_own_programs=True)
    login(client, owner)
    response = client.post_form("/programs/new", {
        "title": "", "summary": "My careful summary", "goals": "One\nTwo", "submit": "Save"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="title-error"' in page and 'aria-invalid="true"' in page
    assert "My careful summary" in page and "One\nTwo" in page
    long_goal = client.post_form("/programs/new", {
        "title": "Fine", "goals": "g" * 201, "submit": "Save"}, token_from="/programs/new")
    assert long_goal.status_code == 422
    assert "Keep each goal under 200 characters." in long_goal.get_data(as_text=True)
    with db() as session:
        assert session.scalar(select(Program.id).where(Program.owner_id == owner.id)) is None


def test_the_program_page_lists_modules_parts_links_and_cohorts(app, db, client, login,
                                                                 authored):
    program_id = authored["program"]
    with app.app_context():
        launch_cohort(authored["owner"], program_id, name="Spring run",
                      starts_on=date(2026, 3, 2), timezone="Europe/Berlin",
                      anonymity="peers", now=NOW)
    login(client, authored["owner"])
    page = client.get(f"/programs/{program_id}").get_data(as_text=True)
    assert page.index(">A</h3>") < page.index(">B</h3>") < page.index(">C</h3>")
    assert "Running cohorts keep the version they were launched with" in page
    assert "Spring run" in page
    first = authored["modules"][0]
    assert f'href="/modules/{first}/prompts/new"' in page
    assert f'href="/modules/{first}/assignments/new"' in page
    # The first module cannot move up, the last cannot move down.
    assert page.count("Move up") == 3 and page.count("Move down") == 3


def test_details_are_saved_on_their_own_page(app, db, client, login, authored):
    program_id = authored["program"]
    login(client, authored["owner"])
    overview = client.get(f"/programs/{program_id}").get_data(as_text=True)
    assert f'href="/programs/{program_id}/edit"' in overview and "<form" not in overview.split(
        'id="details"')[1].split("</section>")[0]
    path = f"/programs/{program_id}/edit"
    response = client.post_form(path, {
        "title": "Feedback that lands", "summary": "Short",
        "goals": "Be specific\nBe kind", "submit": "Save details"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/programs/{program_id}"
    page = client.get(f"/programs/{program_id}").get_data(as_text=True)
    assert "Feedback that lands" in page
    assert "<li>Be specific</li>" in page and "<li>Be kind</li>" in page
    assert "Be specific\nBe kind" in client.get(path).get_data(as_text=True)
    bad = client.post_form(path, {
        "title": "", "summary": "Typed summary", "goals": "Kept goal", "submit": "Save details"})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert 'id="title-error"' in text and "Typed summary" in text
    assert "Kept goal" in text and f'href="/programs/{program_id}"' in text


def test_a_module_is_added_on_its_own_page(app, db, client, login, authored):
    program_id = authored["program"]
    login(client, authored["owner"])
    assert f'href="/programs/{program_id}/modules/new"' in client.get(
        f"/programs/{program_id}").get_data(as_text=True)
    response = client.post_form(f"/programs/{program_id}/modules/new", {
        "title": "Week five", "body": "Read *this*",
        "release_offset_days": "28", "release_time": "08:15", "submit": "Add module"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/programs/{program_id}#module-")
    with db() as session:
        module = session.scalar(select(Module).where(Module.program_id == program_id,
                                                     Module.title == "Week five"))
        assert (module.position, module.release_offset_days, module.release_time) == (
            4, 28, time(8, 15))


def test_a_bad_module_form_keeps_what_was_typed(app, db, client, login, authored):
    program_id = authored["program"]
    login(client, authored["owner"])
    response = client.post_form(f"/programs/{program_id}/modules/new", {
        "title": "Half-written", "body": "Draft **content**",
        "release_offset_days": "-3", "release_time": "25:00", "submit": "Add module"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="release_offset_days-error"' in page
    assert 'id="release_time-error"' in page
    assert 'value="Half-written"' in page and "Draft **content**" in page
    assert titles_in_order(db, program_id) == [(0, "A"), (1, "B"), (2, "C"), (3, "D")]


def test_move_buttons_reorder_the_modules(app, db, client, login, authored):
    program_id, (first, second, _, last) = authored["program"], authored["modules"]
    login(client, authored["owner"])
    page = f"/programs/{program_id}"
    assert client.post_form(f"{page}/modules/{first}/move", {"direction": "down"},
                            token_from=page).status_code == 302
    assert client.post_form(f"{page}/modules/{last}/move", {"direction": "up"},
                            token_from=page).status_code == 302
    assert titles_in_order(db, program_id) == [(0, "B"), (1, "A"), (2, "D"), (3, "C")]
    # Moving the first module up does nothing (and is not an error).
    assert client.post_form(f"{page}/modules/{second}/move", {"direction": "up"},
                            token_from=page).status_code == 302
    assert titles_in_order(db, program_id) == [(0, "B"), (1, "A"), (2, "D"), (3, "C")]


def test_a_module_is_edited_on_its_page(app, db, client, login, authored):
    program_id, module_id = authored["program"], authored["modules"][2]
    login(client, authored["owner"])
    path = f"/programs/{program_id}/modules/{module_id}/edit"
    form = client.get(path).get_data(as_text=True)
    assert 'value="C"' in form and 'value="09:00"' in form
    bad = client.post_form(path, {"title": "", "body": "Typed body",
                                  "release_offset_days": "2", "release_time": "09:00"})
    assert bad.status_code == 422
    assert "Typed body" in bad.get_data(as_text=True)
    response = client.post_form(path, {"title": "C, revised", "body": "New",
                                       "release_offset_days": "21", "release_time": "10:00"})
    assert response.status_code == 302
    with db() as session:
        module = session.get(Module, module_id)
        assert (module.title, module.release_offset_days, module.release_time) == (
            "C, revised", 21, time(10))


def test_the_preview_shows_the_module_as_learners_will_see_it(app, db, client, login,
                                                               authored):
    program_id, module_id = authored["program"], authored["modules"][1]
    with app.app_context():
        update_module(authored["owner"], module_id, title="Listening",
                      body="Try **this** <script>alert(1)</script>",
                      release_offset_days=14, release_time=time(9))
    login(client, authored["owner"])
    page = client.get(f"/programs/{program_id}/modules/{module_id}/preview").get_data(
        as_text=True)
    assert "<strong>this</strong>" in page and "<script>alert" not in page
    assert "pens 14 days after the cohort starts, 09:00 local" in page


def test_a_module_is_deleted_after_confirming(app, db, client, login, authored):
    program_id, module_id = authored["program"], authored["modules"][1]
    login(client, authored["owner"])
    path = f"/programs/{program_id}/modules/{module_id}/delete"
    confirm = client.get(path)
    assert confirm.status_code == 200
    assert "Delete “B”?" in confirm.get_data(as_text=True)
    assert titles_in_order(db, program_id) == [(0, "A"), (1, "B"), (2, "C"), (3, "D")]
    assert client.post_form(path, {"submit": "Delete module"}).status_code == 302
    assert titles_in_order(db, program_id) == [(0, "A"), (1, "C"), (2, "D")]


def test_a_module_of_another_program_is_not_found_through_this_one(app, db, client, login,
                                                                    authored):
    with db() as session:
        other = create_program(session, owner=authored["owner"])
        stray = create_module(session, other, title="Elsewhere")
    login(client, authored["owner"])
    program_id = authored["program"]
    for path in (f"/programs/{program_id}/modules/{stray.id}/edit",
                 f"/programs/{program_id}/modules/{stray.id}/preview",
                 f"/programs/{program_id}/modules/{stray.id}/delete"):
        assert client.get(path).status_code == 404, path
    response = client.post_form(f"/programs/{program_id}/modules/{stray.id}/delete",
                                {"submit": "Delete module"}, token_from="/")
    assert response.status_code == 404
    with db() as session:
        assert session.get(Module, stray.id) is not None
