"""Jinja filters and globals shared by every page."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, url_for
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


def link_url(link) -> str | None:
    """The address a ``Link`` names (services say what to link to; pages build it)."""
    return url_for(link.endpoint, **link.args) if link is not None else None


def init_app(app: Flask) -> None:
    """Register filters and globals."""
    app.jinja_env.globals["link_url"] = link_url
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["iso"] = iso
    app.jinja_env.filters["stored_html"] = stored_html
