"""Discussions: prompts in program modules, one staged thread per prompt per cohort."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the discussion pages and API, and copy prompts when a cohort launches."""
