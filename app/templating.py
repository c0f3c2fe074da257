"""Jinja filters and globals shared by every page."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask
from flask_login import current_user
from markupsafe import Markup


def local_time(value: datetime | None, fmt: str = "%a %d %b %Y, %H:%M",
               zone: str | None = None) -> str:
    """Format a UTC time in the viewer's (or the given) time zone, naming the zone."""
    if value is None:
        return ""
    name = zone or getattr(current_user, "timezone", None) or "UTC"
    local = value.astimezone(ZoneInfo(name))
    return f"{local.strftime(fmt)} {local.tzname()}"


def iso(value: datetime | None) -> str:
    """ISO 8601 for <time datetime=…>."""
    return value.isoformat() if value else ""


def stored_html(value: str | None) -> Markup:
    """HTML that app.sanitize cleaned when it was saved (render on write), shown as is."""
    return Markup(value or "")  # noqa: S704 (cleaned before it was stored)


def init_app(app: Flask) -> None:
    """Register filters."""
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["iso"] = iso
    app.jinja_env.filters["stored_html"] = stored_html
