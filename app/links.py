"""Links to the app's pages: where a notice points, as a path and as an absolute address.

Paths are written here rather than with ``url_for`` because services and jobs build them
outside any request; absolute addresses (for e-mails and feeds) always start with
``BASE_URL``, the public address, never with whatever host a request came in on.
"""

from dataclasses import dataclass

from flask import current_app


def absolute_url(path: str) -> str:
    """The absolute address of a path inside the app (``/cohorts/3`` → ``https://…/cohorts/3``)."""
    return f"{current_app.config['BASE_URL']}{path}"


@dataclass(frozen=True)
class Target:
    """What a notice points at: a page of the app, and the cohort it belongs to, if any."""

    path: str
    cohort_id: int | None = None

    @property
    def url(self) -> str:
        """The page's absolute address, for e-mails."""
        return absolute_url(self.path)


def cohort_target(cohort_id: int) -> Target:
    """A cohort's page."""
    return Target(f"/cohorts/{cohort_id}", cohort_id)


def module_target(cohort_id: int, cohort_module_id: int) -> Target:
    """A module's page in a cohort."""
    return Target(f"/cohorts/{cohort_id}/modules/{cohort_module_id}", cohort_id)


def inbox_target() -> Target:
    """The person's notifications page."""
    return Target("/notifications")


def preferences_target() -> Target:
    """The page where a person chooses how notices reach them."""
    return Target("/settings/notifications")


def assignment_target(cohort_id: int, assignment_id: int) -> Target:
    """A cohort assignment's page: submit, review, see results."""
    return Target(f"/assignments/{assignment_id}", cohort_id)


def submission_target(cohort_id: int, submission_id: int) -> Target:
    """A submission with its reviews (its author and the staff)."""
    return Target(f"/submissions/{submission_id}", cohort_id)


def review_board_target(cohort_id: int, assignment_id: int) -> Target:
    """An assignment's review board (facilitators)."""
    return Target(f"/assignments/{assignment_id}/board", cohort_id)


def announcement_target(cohort_id: int, announcement_id: int) -> Target:
    """An announcement on its cohort's list of announcements."""
    return Target(f"/cohorts/{cohort_id}/announcements#announcement-{announcement_id}",
                  cohort_id)
