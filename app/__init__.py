"""Cohort Commons: the application factory."""

import logging
import os

from flask import Flask
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from app.config import load_config
from app.db import MAX_ID


class Int32Converter(IntegerConverter):
    """``<int:…>`` limited to the range of a 32-bit INTEGER primary key.

    A larger number names nothing that can exist, so it is a 404 at once. (Refusing the
    match instead would let the router fall back to another method of the same address
    and answer 405, which says the address exists.)
    """

    def to_python(self, value: str) -> int:
        """The id, or NotFound when it is beyond the column's range."""
        number = super().to_python(value)
        if number > MAX_ID:
            raise NotFound()
        return number


def create_app(overrides: dict | None = None) -> Flask:
    """Create and configure an application; ``overrides`` win over the environment."""
    app = Flask(__name__, instance_relative_config=True,
                static_folder=os.path.join(os.path.dirname(__file__), os.pardir, "static"))
    app.config.update(load_config(app.instance_path))
    if overrides:
        app.config.update(overrides)
    # Ids in URLs are INTEGER columns: a larger number is a 404, not a database error.
    app.url_map.converters["int"] = Int32Converter
    logging.basicConfig(level=app.config.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    register_extensions(app)
    register_features(app)
    register_shell(app)
    return app


def register_extensions(app: Flask) -> None:
    """Initialise the database, sign-in, CSRF, rate limits, live events and errors."""
    from app import db, errors, realtime, security
    from app.extensions import csrf, limiter

    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    security.init_app(app)
    realtime.init_app(app)
    errors.init_app(app)


def register_features(app: Flask) -> None:
    """Register each feature's pages, API endpoints, live events and commands."""
    from app import accounts, api, cohorts, discussions, notifications, peer_review

    app.register_blueprint(api.bp)
    for feature in (accounts, cohorts, discussions, peer_review, notifications):
        feature.init_app(app)


def register_shell(app: Flask) -> None:
    """Template helpers and commands shared by every feature."""
    from app import cli, templating

    templating.init_app(app)
    cli.init_app(app)
