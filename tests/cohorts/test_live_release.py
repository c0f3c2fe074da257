"""After a live ``module_released`` the timeline shows the module as open, without a reload.

The cohort page is rendered as each role sees it; the timeline item of the module not yet
open is cut out of the HTML and handed to ``static/js/releases.js``, which runs under Node
against a small stand-in DOM (``live_dom.js``) and receives the event. Without Node the
script test is skipped; the markup test still checks that the page gives the script what it
needs.
"""

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.cohorts.test_module_pages import make_cohort

ROOT = Path(__file__).resolve().parents[2]
VOID = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class _Tree(HTMLParser):
    """The page as nested ``{"tag", "attrs", "children"}`` dicts (text as strings)."""

    def __init__(self):
        super().__init__()
        self.root = {"tag": "root", "attrs": {}, "children": []}
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = {"tag": tag, "attrs": {k: v or "" for k, v in attrs}, "children": []}
        self.stack[-1]["children"].append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        while self.stack[-1]["tag"] != tag:
            self.stack.pop()
        self.stack.pop()

    def handle_data(self, data):
        self.stack[-1]["children"].append(data)


def _find(node, test):
    """The first element under ``node`` that passes ``test``."""
    for child in node["children"]:
        if isinstance(child, dict):
            if test(child):
                return child
            found = _find(child, test)
            if found is not None:
                return found
    return None


def _text(node) -> str:
    return "".join(c if isinstance(c, str) else _text(c) for c in node["children"])


def _timeline_item(html: str, module_id: int) -> dict:
    tree = _Tree()
    tree.feed(html)
    timeline = _find(tree.root, lambda n: "data-cohort-timeline" in n["attrs"])
    return _find(timeline, lambda n: n["attrs"].get("data-module-id") == str(module_id))


@pytest.mark.parametrize("role", ["learner", "facilitator"])
def test_the_page_gives_the_script_what_it_needs(app, db, client, login, role):
    cohort, learner, facilitator, _, second = make_cohort(app, db)
    login(client, learner if role == "learner" else facilitator)
    item = _timeline_item(client.get(f"/cohorts/{cohort.id}").get_data(as_text=True),
                          second.id)
    assert item["attrs"]["data-module-href"] == f"/cohorts/{cohort.id}/modules/{second.id}"
    assert _find(item, lambda n: "module-title" in n["attrs"].get("class", ""))
    state = _find(item, lambda n: "data-module-state" in n["attrs"])
    assert "Opens" in _text(state)
    control = _find(item, lambda n: "data-release-control" in n["attrs"])
    if role == "learner":
        assert control is None
    else:
        assert control["attrs"]["href"] == f"/cohorts/{cohort.id}/modules/{second.id}/release"


@pytest.mark.skipif(shutil.which("node") is None, reason="Node is not installed")
@pytest.mark.parametrize("role", ["learner", "facilitator"])
def test_a_live_release_turns_opens_into_open_with_its_link(app, db, client, login, role):
    cohort, learner, facilitator, _, second = make_cohort(app, db)
    login(client, learner if role == "learner" else facilitator)
    item = _timeline_item(client.get(f"/cohorts/{cohort.id}").get_data(as_text=True),
                          second.id)
    payload = {"cohort_id": cohort.id, "module_id": second.id, "title": "Future module",
               "release_at": "2026-01-01T09:00:00+00:00"}
    run = subprocess.run(
        ["node", str(ROOT / "tests/cohorts/live_dom.js"), str(ROOT / "static/js/releases.js"),
         json.dumps({"cohort_id": cohort.id, "item": item, "payload": payload})],
        capture_output=True, text=True, timeout=30, check=True)
    after = json.loads(run.stdout)
    assert after["item"]["attrs"]["class"] == "released"
    assert "Opens" not in after["text"] and "Open now" in after["text"]
    link = _find(after["item"], lambda n: n["tag"] == "a" and "href" in n["attrs"])
    assert link["attrs"]["href"] == f"/cohorts/{cohort.id}/modules/{second.id}"
    assert _text(link) == "Future module"
    assert "Release now" not in after["text"]
    assert _find(after["item"], lambda n: "data-release-control" in n["attrs"]) is None
    assert "New" in after["text"]
    assert after["announced"] == ["New module open: Future module"]
