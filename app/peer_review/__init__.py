"""Peer review: practice assignments with rubrics, submissions and reviews."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the assignment pages and API, and copy assignments when a cohort launches."""
