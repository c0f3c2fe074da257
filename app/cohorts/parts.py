"""What other features put into a module — discussion prompts, assignments — behind one
interface, so cohort pages, the API, "this week" and the calendar can show them without
cohorts importing those features (they register a provider at start-up).

Cohort parts are asked for on behalf of a viewer (their ``CohortAccess``), so a part can
say what it means for that person ("post your reflection to see your peers'", "you owe 2
reviews"). Parts say what to link to (a ``Link``); pages and the API build the address.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from app.cohorts.access import CohortAccess
from app.cohorts.models import CohortModule, Module


@dataclass(frozen=True)
class Link:
    """Where a part leads: a Flask endpoint and its arguments, turned into an address by the
    page or endpoint that shows it (``url_for(link.endpoint, **link.args)``)."""

    endpoint: str
    arguments: tuple[tuple[str, int], ...] = ()

    @classmethod
    def to(cls, endpoint: str, **arguments: int) -> "Link":
        """A link to ``endpoint`` with these arguments."""
        return cls(endpoint, tuple(sorted(arguments.items())))

    @property
    def args(self) -> dict[str, int]:
        """The arguments as keywords for ``url_for``."""
        return dict(self.arguments)

#: Order of kinds within a module.
KIND_ORDER = {"prompt": 0, "thread": 0, "assignment": 1}


@dataclass(frozen=True)
class ModulePart:
    """One item of a module as a page or the API presents it."""

    #: "prompt" / "assignment" on a program module; "thread" / "assignment" in a cohort.
    kind: str
    id: int
    #: The Module id (program) or CohortModule id (cohort) it belongs to.
    module_id: int
    position: int
    title: str
    #: The owner's Markdown as cleaned HTML, rendered when it was written (app.sanitize).
    body_html: str
    #: Its page, when its feature has one.
    link: Link | None = None
    #: Short plain-text facts, e.g. "Reply to at least 2 peers".
    facts: tuple[str, ...] = ()
    #: What the viewer is asked to do here now, as a call to action ("Post your
    #: reflection"), or None when nothing waits for them ("Up next" leads with it).
    todo: str | None = None
    #: Dated milestones, e.g. ("Submissions due", instant); cohort parts only.
    dates: tuple[tuple[str, datetime], ...] = field(default=())
    #: The instant the part is due, if any ("this week" and the calendar use it).
    due_at: datetime | None = None


class PartProvider(Protocol):
    """A feature that contributes parts to modules. One query per call, however many modules."""

    def parts_of_modules(self, modules: list[Module]) -> list[ModulePart]:
        """Parts of program modules (authoring and preview)."""

    def parts_of_cohort_modules(self, viewer: CohortAccess,
                                modules: list[CohortModule]) -> list[ModulePart]:
        """Parts of one cohort's modules as the viewer sees them, with dates in that
        cohort's schedule."""

    def parts_of_many_cohorts(self, groups: list[tuple[CohortAccess, list[CohortModule]]]
                              ) -> list[ModulePart]:
        """The same for several cohorts of one viewer at once (home, "this week", the
        calendar feed), still in one query."""


_providers: list[PartProvider] = []


def register(provider: PartProvider) -> None:
    """Add a provider (once per process; a second registration of the same one is ignored)."""
    if provider not in _providers:
        _providers.append(provider)


def _by_module(parts: list[ModulePart], module_ids: list[int]) -> dict[int, list[ModulePart]]:
    """Group parts per module, in kind order then position."""
    grouped: dict[int, list[ModulePart]] = {module_id: [] for module_id in module_ids}
    for part in sorted(parts, key=lambda p: (KIND_ORDER.get(p.kind, 9), p.position, p.id)):
        grouped.setdefault(part.module_id, []).append(part)
    return grouped


def parts_of_modules(modules: list[Module]) -> dict[int, list[ModulePart]]:
    """Every provider's parts of these program modules, keyed by module id."""
    if not modules:
        return {}
    parts = [p for provider in _providers for p in provider.parts_of_modules(modules)]
    return _by_module(parts, [m.id for m in modules])


def parts_of_cohort_modules(viewer: CohortAccess,
                            modules: list[CohortModule]) -> dict[int, list[ModulePart]]:
    """Every provider's parts of these modules of the viewer's cohort, by cohort module id."""
    if not modules:
        return {}
    parts = [part for provider in _providers
             for part in provider.parts_of_cohort_modules(viewer, modules)]
    return _by_module(parts, [m.id for m in modules])


def parts_of_cohorts(groups: list[tuple[CohortAccess, list[CohortModule]]]
                     ) -> dict[int, list[ModulePart]]:
    """Parts of several cohorts' modules for one viewer, keyed by cohort module id.

    Pages that list many cohorts (home, "this week", the calendar feed) use this; each
    provider answers for every cohort in one query, which keeps those pages at a fixed cost.
    """
    groups = [(viewer, modules) for viewer, modules in groups if modules]
    if not groups:
        return {}
    parts = [part for provider in _providers for part in provider.parts_of_many_cohorts(groups)]
    return _by_module(parts, [m.id for _, modules in groups for m in modules])


def milestones(part: ModulePart) -> tuple[tuple[str, datetime], ...]:
    """A cohort part's dated milestones: its ``dates``, plus ``due_at`` when not among them."""
    dates = tuple(part.dates)
    if part.due_at is not None and all(at != part.due_at for _, at in dates):
        dates += (("Due", part.due_at),)
    return dates
