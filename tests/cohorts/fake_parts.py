"""A stand-in provider of module parts (threads, assignments) for tests of cohort pages.

Real providers live in the discussions and peer-review features; this one serves parts a
test declares, and sends one SQL statement per call as a real provider would, so query
counts stay honest.
"""

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime

from sqlalchemy import literal, select

from app.cohorts import parts
from app.cohorts.parts import ModulePart
from app.db import get_session
from app.sanitize import render_html

_ids = itertools.count(1)


class FakeProvider:
    """Parts declared per cohort module with :meth:`add`."""

    def __init__(self):
        self.parts: list[ModulePart] = []
        self.calls = 0
        #: The viewers parts were asked for, in order.
        self.viewers = []

    def add(self, module, kind: str, title: str, *, body: str = "",
            dates: tuple[tuple[str, datetime], ...] = (), due_at: datetime | None = None,
            link: parts.Link | None = None, todo: str | None = None) -> ModulePart:
        """Declare a thread or assignment of a cohort module (its Markdown ``body`` is
        rendered here, as a real feature renders it when the part is saved)."""
        part = ModulePart(kind=kind, id=next(_ids), module_id=module.id, position=len(self.parts),
                          title=title, body_html=render_html(body), link=link, dates=dates,
                          due_at=due_at, todo=todo,
                          facts=("Reply to at least 2 peers",) if kind == "thread" else ())
        self.parts.append(part)
        return part

    def _query(self) -> None:
        """The one statement a real provider sends per call."""
        self.calls += 1
        get_session().execute(select(literal(1)))

    def parts_of_modules(self, modules) -> list[ModulePart]:
        """Program modules have no parts here."""
        return []

    def parts_of_cohort_modules(self, viewer, modules) -> list[ModulePart]:
        """The declared parts of these cohort modules, each with a fact for its viewer."""
        return self.parts_of_many_cohorts([(viewer, modules)])

    def parts_of_many_cohorts(self, groups) -> list[ModulePart]:
        """Several cohorts at once, still one statement."""
        self._query()
        parts = []
        for viewer, modules in groups:
            self.viewers.append((viewer.user.id, viewer.cohort.id, viewer.role))
            wanted = {m.id for m in modules}
            parts.extend(replace(p, facts=(*p.facts, f"Shown to a {viewer.role}"))
                         for p in self.parts if p.module_id in wanted)
        return parts


@contextmanager
def provide_parts() -> Iterator[FakeProvider]:
    """Register a fake provider for the duration of the block."""
    provider = FakeProvider()
    parts.register(provider)
    try:
        yield provider
    finally:
        parts._providers.remove(provider)
