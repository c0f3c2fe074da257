"""Practice assignment forms, with a rubric builder that works without JavaScript.

The rubric is a list of criteria, each with a list of levels, named like
``criteria-0-title`` and ``criteria-0-levels-1-points``. "Add a criterion", "Add a level"
and "Remove" are submit buttons named ``action``: the page comes back with the change
made and everything typed so far kept (``static/js/rubric.js`` does the same in place).
The rules (lengths, counts, ranges) live in the services.
"""

import re

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    StringField,
    SubmitField,
    TextAreaField,
)

from app.peer_review.models import ASSIGNMENT_DEFAULTS
from app.peer_review.services import MAX_CRITERIA, MAX_LEVELS, MIN_CRITERIA, MIN_LEVELS

WHOLE_NUMBER = "Enter a whole number, like 3."

#: A new rubric starts with one criterion of three levels.
STARTER_LEVELS = [{"label": "", "points": "0"}, {"label": "", "points": "1"},
                  {"label": "", "points": "2"}]


class LevelForm(Form):
    """One level of a criterion (no CSRF token of its own: it sits inside the page's form)."""

    label = StringField("Level", render_kw={"maxlength": 200})
    points = IntegerField("Points", invalid_value_message=WHOLE_NUMBER,
                          render_kw={"min": 0, "max": 1000, "inputmode": "numeric"})


class CriterionForm(Form):
    """One criterion with its levels."""

    title = StringField("What is judged", render_kw={"maxlength": 200})
    description = TextAreaField("Guidance for reviewers (optional)", render_kw={"rows": 2})
    levels = FieldList(FormField(LevelForm), max_entries=MAX_LEVELS)


class AssignmentForm(FlaskForm):
    """A practice assignment: instructions, rubric, review load and windows."""

    title = StringField("Title", render_kw={"required": True, "maxlength": 200})
    instructions = TextAreaField(
        "Instructions", description="What learners practise and submit. Markdown works.",
        render_kw={"rows": 8})
    criteria = FieldList(FormField(CriterionForm), max_entries=MAX_CRITERIA)
    reviews_required = IntegerField(
        "Peer reviews per submission", default=ASSIGNMENT_DEFAULTS["reviews_required"],
        invalid_value_message=WHOLE_NUMBER,
        description="From 1 to 10.", render_kw={"min": 1, "max": 10})
    submit_days = IntegerField(
        "Submissions due after (days)", default=ASSIGNMENT_DEFAULTS["submit_days"],
        invalid_value_message=WHOLE_NUMBER,
        description="Days after the module opens.", render_kw={"min": 0, "max": 365})
    review_days = IntegerField(
        "Reviews due after (days)", default=ASSIGNMENT_DEFAULTS["review_days"],
        invalid_value_message=WHOLE_NUMBER,
        description="Days after submissions are due.", render_kw={"min": 0, "max": 365})
    review_expiry_hours = IntegerField(
        "Unfinished reviews go back to the pool after (hours)",
        default=ASSIGNMENT_DEFAULTS["review_expiry_hours"],
        invalid_value_message=WHOLE_NUMBER,
        description="From 1 to 720. Another reviewer can then pick the submission up.",
        render_kw={"min": 1, "max": 720})
    submit_first = BooleanField(
        "Learners submit their own work before they review a peer's",
        default=ASSIGNMENT_DEFAULTS["submit_first"])
    double_blind = BooleanField(
        "Double-blind: reviewers and authors do not see each other's names "
        "(facilitators see both)", default=ASSIGNMENT_DEFAULTS["double_blind"])
    results_after = RadioField(
        "Authors see their reviews", default=ASSIGNMENT_DEFAULTS["results_after"],
        choices=[("reviews_done", "once they have done their own reviews (at the latest when "
                                  "the review window closes)"),
                 ("window_closed", "when the review window closes, everyone at once")])
    submit = SubmitField("Save assignment")

    def rubric(self) -> list[dict]:
        """The rubric as the services take it (unreadable points become None)."""
        return [{"title": c.form.title.data or "", "description": c.form.description.data or "",
                 "levels": [{"label": lv.form.label.data or "", "points": lv.form.points.data}
                            for lv in c.form.levels]}
                for c in self.criteria]

    def values(self) -> dict:
        """The fields as the services take them."""
        return {"title": self.title.data or "", "instructions": self.instructions.data or "",
                "rubric": self.rubric(), "reviews_required": self.reviews_required.data,
                "submit_days": self.submit_days.data, "review_days": self.review_days.data,
                "review_expiry_hours": self.review_expiry_hours.data,
                "submit_first": self.submit_first.data, "double_blind": self.double_blind.data,
                "results_after": self.results_after.data}

    def typed_rubric(self) -> list[dict]:
        """The rubric exactly as typed (points as text), to show it again after a change."""
        return [{"title": c.form.title._value(), "description": c.form.description._value(),
                 "levels": [{"label": lv.form.label._value(),
                             "points": lv.form.points._value()} for lv in c.form.levels]}
                for c in self.criteria]

    def max_points(self) -> int:
        """The best possible score of the rubric as typed (unreadable points count 0)."""
        return sum(max((lv.form.points.data or 0 for lv in c.form.levels), default=0)
                   for c in self.criteria)


def rubric_formdata(rubric: list[dict], prefix: str = "criteria") -> MultiDict:
    """Form data for a rubric (criteria with levels), numbered from 0."""
    data = MultiDict()
    for c, criterion in enumerate(rubric):
        data.add(f"{prefix}-{c}-title", criterion["title"])
        data.add(f"{prefix}-{c}-description", criterion.get("description") or "")
        for n, level in enumerate(criterion["levels"]):
            data.add(f"{prefix}-{c}-levels-{n}-label", level["label"])
            data.add(f"{prefix}-{c}-levels-{n}-points", str(level["points"]))
    return data


_ACTION = re.compile(r"^(add_criterion|add_level|remove_criterion|remove_level)"
                     r"(?::(\d+))?(?::(\d+))?$")


def change_rubric(rubric: list[dict], action: str) -> tuple[list[dict], str | None, str | None]:
    """Apply a builder button to a typed rubric.

    Returns the new rubric, the id of the input to focus, and a message when the change
    is not possible (limits). A new criterion starts with the levels of the one before.
    """
    match = _ACTION.match(action or "")
    if not match:
        return rubric, None, None
    verb, first, second = match[1], match[2], match[3]
    c = int(first) if first is not None else None
    n = int(second) if second is not None else None
    rubric = [dict(criterion, levels=[dict(level) for level in criterion["levels"]])
              for criterion in rubric]
    if verb == "add_criterion":
        if len(rubric) >= MAX_CRITERIA:
            return rubric, None, f"A rubric has at most {MAX_CRITERIA} criteria."
        levels = ([{"label": lv["label"], "points": lv["points"]} for lv in rubric[-1]["levels"]]
                  if rubric else [dict(level) for level in STARTER_LEVELS])
        rubric.append({"title": "", "description": "", "levels": levels})
        return rubric, f"criteria-{len(rubric) - 1}-title", None
    if c is None or not 0 <= c < len(rubric):
        return rubric, None, None
    levels = rubric[c]["levels"]
    if verb == "remove_criterion":
        if len(rubric) <= MIN_CRITERIA:
            return rubric, None, f"A rubric needs at least {MIN_CRITERIA} criterion."
        del rubric[c]
        return rubric, "add-criterion", None
    if verb == "add_level":
        if len(levels) >= MAX_LEVELS:
            return rubric, None, f"A criterion has at most {MAX_LEVELS} levels."
        levels.append({"label": "", "points": ""})
        return rubric, f"criteria-{c}-levels-{len(levels) - 1}-label", None
    if n is None or not 0 <= n < len(levels):
        return rubric, None, None
    if len(levels) <= MIN_LEVELS:
        return rubric, None, f"A criterion needs at least {MIN_LEVELS} levels."
    del levels[n]
    return rubric, f"add-level-{c}", None


class DeleteForm(FlaskForm):
    """Confirms a deletion (the CSRF token is the point)."""

    submit = SubmitField("Delete assignment")
