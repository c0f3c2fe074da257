"""The double-blind leak test: two learners review each other's work, and every channel each
of them can reach is searched for the other's identity.

Ada and Bram each submit work with an attachment whose file name carries their own name,
then review each other's — Bram's review is held by the kindness check and released by a
facilitator, so the held, released and moderated notices go out too — and Ada rates
hers. Collected per person as text: every API answer they got along the way (allocation,
review form, submission with its reviews, assignment overview, rating), the attachment
download's headers, their notifications through the API, and their inbox rows and outbox
e-mails in the database. Under double-blind none of it names the other (name, e-mail,
user id); the cohort's staff see both; without double-blind the names show.
"""

from io import BytesIO

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.db import get_session
from app.mail import OutboxEmail
from app.notifications.models import Notification
from tests.peer_review.work_http import GOOD_COMMENT, PDF, Work, live_practice

NAMES = {"peer_1": ("Ada Quillfeather", "ada.quillfeather@example.org"),
         "peer_2": ("Bram Oakenshield", "bram.oakenshield@example.org")}


def _identifiers(user) -> list[str]:
    """What would give a person away in a JSON or text payload."""
    ids = [f'"{key}": {user.id}' for key in ("user_id", "reviewer_id", "author_id")]
    ids += [f'"{key}":{user.id}' for key in ("user_id", "reviewer_id", "author_id")]
    return [user.name, user.email, user.email.split("@")[0], *ids, f"/users/{user.id}"]


def _text(response) -> str:
    """A response as the receiver gets it: headers and body."""
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    body = "" if response.mimetype == "application/pdf" else response.get_data(as_text=True)
    return f"{headers}\n{body}"


def _inbox_and_outbox(app, user_id: int) -> list[str]:
    """The person's notification rows and e-mails, as stored."""
    with app.app_context():
        session = get_session()
        rows = [f"{n.title} {n.body} {n.link}" for n in session.scalars(
            select(Notification).where(Notification.user_id == user_id))]
        rows += [f"{m.to_address} {m.subject} {m.body_text}" for m in session.scalars(
            select(OutboxEmail).where(OutboxEmail.user_id == user_id))]
        return rows


def _scores(w) -> dict:
    return {str(k): v for k, v in w.p.scores().items()}


def _exchange(w) -> tuple[dict[str, list[str]], dict]:
    """Ada (peer_1) and Bram (peer_2) review each other; what each received, and ids."""
    seen: dict[str, list[str]] = {"peer_1": [], "peer_2": []}

    def got(role, response, status=(200, 201)):
        assert response.status_code in status, (role, response.get_data()[:300])
        seen[role].append(_text(response))
        return response.get_json() if response.is_json else None

    works = {}
    for role in ("peer_1", "peer_2"):
        form = {"body": "My rewritten message.",
                "attachment": (BytesIO(PDF), f"Essay by {NAMES[role][0]}.pdf")}
        works[role] = got(role, w.send(role, "POST", f"{w.assignment}/submissions",
                                       data=form, content_type="multipart/form-data"))
    ada_review = got("peer_1", w.ask("peer_1"))  # Bram's work
    bram_review = got("peer_2", w.ask("peer_2"))  # Ada's work
    assert ada_review["work"]["submission_id"] == works["peer_2"]["id"]
    for role, review in (("peer_1", ada_review), ("peer_2", bram_review)):
        got(role, w.get(role, f"/api/v1/reviews/{review['id']}"))
        got(role, w.get(role, review["work"]["attachment"]["url"]))
    got("peer_1", w.save("peer_1", ada_review["id"], scores=_scores(w), comment=GOOD_COMMENT,
                         submit=True))
    harsh = {"scores": _scores(w), "comment": "This is useless.", "submit": True}
    got("peer_2", w.save("peer_2", bram_review["id"], **harsh), status=(409,))
    got("peer_2", w.save("peer_2", bram_review["id"], **harsh, submit_anyway=True))
    released = w.send("facilitator_a", "POST", f"/api/v1/reviews/{bram_review['id']}/release")
    assert released.status_code == 200
    for role in ("peer_1", "peer_2"):
        got(role, w.get(role, f"/api/v1/submissions/{works[role]['id']}"))
        got(role, w.get(role, w.assignment))
        got(role, w.get(role, "/api/v1/notifications"))
    got("peer_1", w.send("peer_1", "POST", f"/api/v1/reviews/{bram_review['id']}/rating",
                         json={"helpfulness": 2, "comment": "Could be kinder."}))
    return seen, {"ada_submission": works["peer_1"]["id"], "bram_review": bram_review["id"],
                  "ada_review": ada_review["id"]}


@pytest.fixture
def named(db):
    """Build the world with Ada and Bram, and return a function giving the Work helper."""
    def build(call, client, **settings) -> Work:
        with db() as session:
            p = live_practice(session, reviews_required=1, **settings)
            for role, (name, email) in NAMES.items():
                user = session.get(User, p.people[role].id)
                user.name, user.email = name, email
            p.people.update({role: session.get(User, p.people[role].id) for role in NAMES})
        return Work(call, client, p)
    return build


def test_under_double_blind_neither_learner_can_find_the_other(app, call, client, named):
    w = named(call, client)
    seen, ids = _exchange(w)
    ada, bram = w.p.people["peer_1"], w.p.people["peer_2"]
    for role, other in (("peer_1", bram), ("peer_2", ada)):
        everything = "\n".join(seen[role] + _inbox_and_outbox(app, w.p.people[role].id))
        leaked = [thing for thing in _identifiers(other) if thing in everything]
        assert leaked == [], f"{role} can find {leaked}"
    ada_sees = "\n".join(seen["peer_1"] + _inbox_and_outbox(app, ada.id))
    bram_sees = "\n".join(seen["peer_2"] + _inbox_and_outbox(app, bram.id))
    # The channels were really exercised.
    assert "A peer reviewed your work" in ada_sees  # inbox and e-mail
    assert "Reviewer 1" in ada_sees and "A peer" in bram_sees
    assert f"submission-{ids['ada_submission']}.pdf" in bram_sees  # the neutral file name
    assert "passed on to its author" in bram_sees  # the moderation notice
    with app.app_context():
        assert get_session().scalars(select(OutboxEmail).where(
            OutboxEmail.user_id == ada.id)).first() is not None


def test_staff_see_both_names(app, call, client, named):
    w = named(call, client)
    _, ids = _exchange(w)
    ada, bram = w.p.people["peer_1"], w.p.people["peer_2"]
    for role in ("facilitator_a", "owner_a"):
        work = w.get(role, f"/api/v1/submissions/{ids['ada_submission']}").get_json()
        assert work["author"]["name"] == ada.name
        assert work["attachment"]["name"] == f"Essay by {ada.name}.pdf"
        assert [r["reviewer"]["label"] for r in work["reviews"]] == [
            f"Reviewer 1 ({bram.name})"]
        review = w.get(role, f"/api/v1/reviews/{ids['bram_review']}").get_json()
        assert (review["reviewer"]["name"], review["work"]["author"]["name"]) == (
            bram.name, ada.name)
        board = w.get(role, f"{w.assignment}/board").get_data(as_text=True)
        assert ada.name in board and bram.name in board


def test_without_double_blind_the_names_show(app, call, client, named):
    w = named(call, client, double_blind=False)
    seen, ids = _exchange(w)
    ada, bram = w.p.people["peer_1"], w.p.people["peer_2"]
    work = w.get("peer_1", f"/api/v1/submissions/{ids['ada_submission']}").get_json()
    assert work["reviews"][0]["reviewer"]["name"] == bram.name
    assert work["reviews"][0]["reviewer"]["user_id"] == bram.id
    review = w.get("peer_2", f"/api/v1/reviews/{ids['bram_review']}").get_json()
    assert review["work"]["author"]["name"] == ada.name
    assert review["work"]["attachment"]["name"] == f"Essay by {ada.name}.pdf"
    assert ada.name in "\n".join(seen["peer_2"])
