"""The ceiling for ``bench/pages.py``: Flask + Jinja rendering 50 posts from memory, no database.

``/`` renders a page of 50 posts the size of a cohort page's timeline; ``/hello`` is a bare
hello world. Served by the same gunicorn settings as the app, it is what a page of ours
could reach at best on this machine.
"""

from flask import Flask, render_template
from jinja2 import DictLoader

POSTS = [{"id": n, "author": f"Member {n % 17}", "title": f"Post number {n}",
          "body": "A reflection of a few sentences about the week's module. " * 4}
         for n in range(50)]

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Posts</title></head>
<body><main><h1>Posts</h1>
{% for post in posts %}
<article id="post-{{ post.id }}"><h2>{{ post.title }}</h2>
<p class="meta">{{ post.author }}</p><p>{{ post.body }}</p></article>
{% endfor %}
</main></body></html>"""

app = Flask(__name__)
# A loader, not render_template_string: that would compile the template on every request.
app.jinja_loader = DictLoader({"posts.html": PAGE})


@app.get("/")
def posts():
    """Fifty posts through a Jinja template."""
    return render_template("posts.html", posts=POSTS)


@app.get("/hello")
def hello():
    """A bare response."""
    return "Hello, world!"
