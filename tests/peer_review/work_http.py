"""Peer review work through HTTP: the practice world at the real clock with API tokens, and
short helpers for the calls every API test makes.

``live_practice(session, **settings)`` is the practice world (tests/peer_review/world.py)
released a day before the real "now", everyone with a token. ``Work`` wraps the ``call``
fixture (responses validated against the OpenAPI document) with the world's tokens.
"""

from dataclasses import dataclass

from tests.http import bearer
from tests.peer_review.world import Practice, live_release, practice

#: The smallest files of each kind the attachment check accepts.
PDF = b"%PDF-1.4\n% a learner's essay\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
EXE = b"MZ\x90\x00" + b"\x00" * 60
GOOD_COMMENT = "The opening names what happened; the ask could come sooner."


def live_practice(session, **settings) -> Practice:
    """The practice world with the real clock a day after the release, and API tokens."""
    built = practice(session, released_at=live_release(1), **settings)
    built.world.with_tokens(session)
    return built


@dataclass
class Work:
    """The API as each person of the practice world calls it."""

    call: object
    client: object
    p: Practice

    @property
    def assignment(self) -> str:
        """The open assignment's address."""
        return f"/api/v1/assignments/{self.p.assignment.id}"

    def as_(self, role: str) -> dict:
        """Headers authenticating as ``role``."""
        return bearer(self.p.world.tokens[role])

    def get(self, role: str, path: str, **kwargs):
        """GET as ``role``."""
        return self.call(self.client, "GET", path, headers=self.as_(role), **kwargs)

    def send(self, role: str, method: str, path: str, **kwargs):
        """Any other method as ``role``."""
        return self.call(self.client, method, path, headers=self.as_(role), **kwargs)

    def submit(self, role: str, body: str = "My rewritten message.", **extra):
        """Submit work as JSON."""
        return self.send(role, "POST", f"{self.assignment}/submissions",
                         json={"body": body, **extra})

    def upload(self, role: str, filename: str, data: bytes, body: str = "See the file.",
               **fields):
        """Submit work with an attachment (multipart/form-data)."""
        from io import BytesIO

        form = {"body": body, **fields, "attachment": (BytesIO(data), filename)}
        return self.send(role, "POST", f"{self.assignment}/submissions", data=form,
                         content_type="multipart/form-data")

    def ask(self, role: str, **body):
        """Ask for a piece of work to review."""
        return self.send(role, "POST", f"{self.assignment}/reviews", json=body)

    def save(self, role: str, review_id: int, **body):
        """PUT the rubric form."""
        return self.send(role, "PUT", f"/api/v1/reviews/{review_id}", json=body)

    def review(self, role: str, *, clarity: int = 4, kindness: int = 1,
               comment: str = GOOD_COMMENT) -> dict:
        """Ask for work and submit a complete, kind review of it; the saved answer."""
        asked = self.ask(role)
        assert asked.status_code in (200, 201), asked.get_json()
        review_id = asked.get_json()["id"]
        saved = self.save(role, review_id, submit=True, comment=comment,
                          scores={str(self.p.clarity_id): clarity,
                                  str(self.p.kindness_id): kindness})
        assert saved.status_code == 200, saved.get_json()
        return saved.get_json()["review"]

    def each_other(self, author: str = "peer_1", reviewer: str = "peer_2") -> dict:
        """``author`` and ``reviewer`` submit, then review each other's work (with one review
        required, both can read their results). Returns the ids involved."""
        first = self.submit(author).get_json()
        second = self.submit(reviewer, "The reviewer's own work.").get_json()
        of_author = self.review(reviewer)
        of_reviewer = self.review(author)
        assert of_author["work"]["submission_id"] == first["id"]
        return {"submission": first["id"], "review": of_author["id"],
                "reviewer_submission": second["id"], "reviewer_review": of_reviewer["id"]}
