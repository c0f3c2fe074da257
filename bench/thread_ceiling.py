"""The ceiling for ``bench/thread_page.py``: the same 50 posts through a minimal template.

At start-up the thread's 50 posts (``thread_page.thread_plan``) are cleaned once by
``app.sanitize.render_html``, as the app does when a post is written; ``/`` then renders
them, replies under their posts, through a small Jinja template with no database and no
session. ``/hello`` is a bare hello world. Served by the same gunicorn settings as the app,
it is what a thread page of ours could reach at best on this machine.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask, render_template  # noqa: E402
from jinja2 import DictLoader  # noqa: E402
from markupsafe import Markup  # noqa: E402

from app.sanitize import render_html  # noqa: E402
from bench.thread_page import REACTIONS, thread_plan  # noqa: E402


def _posts() -> list[dict]:
    """The thread's top-level posts, each with its replies, ready to render."""
    views = []
    for n, planned in enumerate(thread_plan()):
        views.append({
            "id": n + 1, "parent": planned.parent,
            "author": f"Anonymous Learner {planned.author}" if planned.anonymous
            else f"Learner {planned.author}",
            "written": f"2026-11-{1 + n % 28:02d} 10:{n % 60:02d}",
            "body_html": Markup(render_html(planned.body)),  # noqa: S704 (cleaned)
            "insightful": sum(1 for _, p, kind in REACTIONS if p == n and kind == "insightful"),
            "thanks": sum(1 for _, p, kind in REACTIONS if p == n and kind == "thanks"),
            "replies": []})
    for view in views:
        if view["parent"] is not None:
            views[view["parent"]]["replies"].append(view)
    return [view for view in views if view["parent"] is None]


POSTS = _posts()

PAGE = """{% macro post(p, kind) %}
<article id="post-{{ p.id }}" class="{{ kind }}">
<header><strong>{{ p.author }}</strong> <time>{{ p.written }}</time></header>
{{ p.body_html }}
<footer>{{ p.insightful }} insightful · {{ p.thanks }} thanks</footer>
{% for reply in p.replies %}{{ post(reply, "reply") }}{% endfor %}
</article>
{% endmacro %}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><main><h1>{{ title }}</h1>
{% for p in posts %}{{ post(p, "reflection") }}{% endfor %}
</main></body></html>"""

app = Flask(__name__)
# A loader, not render_template_string: that would compile the template on every request.
app.jinja_loader = DictLoader({"thread.html": PAGE})


@app.get("/")
def thread():
    """The thread's 50 posts through a Jinja template."""
    return render_template("thread.html", title="What feedback changed how you work?",
                           posts=POSTS)


@app.get("/hello")
def hello():
    """A bare response."""
    return "Hello, world!"
