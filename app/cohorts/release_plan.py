"""A program's release order and example dates, before any cohort is launched.

Pure functions over a program's modules: every date comes from :mod:`app.cohorts.schedule`,
the same code that computes a launched cohort's schedule, so what an owner previews is
what a cohort started that day in that zone gets.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.cohorts.models import Module
from app.cohorts.schedule import is_skipped_local_time, local_release, release_instant


@dataclass(frozen=True)
class PlannedRelease:
    """When one module would be released for a cohort starting on a given day."""

    module: Module
    #: The UTC instant, as a launched cohort would store it.
    release_at: datetime
    #: The same instant on the cohort's clocks (aware, in its zone).
    local: datetime
    #: The module's local time does not exist that day (a daylight-saving gap), so the
    #: release moves on by the gap (the schedule's rule).
    shifted: bool


def example_start(now: datetime, zone: str) -> date:
    """The next Monday after today in ``zone``: the start the program page shows dates for."""
    today = now.astimezone(ZoneInfo(zone)).date()
    return today + timedelta(days=7 - today.weekday())


def plan_releases(modules: list[Module], starts_on: date, zone: str) -> list[PlannedRelease]:
    """Each module's release, in program order, for a cohort starting on ``starts_on``."""
    plan = []
    for module in modules:
        wall = local_release(starts_on, module.release_offset_days, module.release_time, zone)
        instant = release_instant(starts_on, module.release_offset_days, module.release_time,
                                  zone)
        plan.append(PlannedRelease(module=module, release_at=instant,
                                   local=instant.astimezone(ZoneInfo(zone)),
                                   shifted=is_skipped_local_time(wall)))
    return plan


def out_of_order(modules: list[Module]) -> dict[int, Module]:
    """``{module id: the module above it}`` for each module released on an earlier day than
    the module before it in the program's order (learners would get them out of order)."""
    return {module.id: above for above, module in zip(modules, modules[1:], strict=False)
            if module.release_offset_days < above.release_offset_days}
