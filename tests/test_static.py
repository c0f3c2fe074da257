"""The page scripts: one file per live feature, and no addresses written into JavaScript.

Addresses come from the page (``data-module-href`` and the like), so a route that moves
moves in one place, its Python, and the scripts follow.
"""

import re
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent.parent / "static" / "js"
#: A string literal that starts like a path or an address: "/cohorts/", '/api/…', "https:…".
ADDRESS = re.compile(r"""["'](/[a-z]|https?:)""")


def test_no_script_writes_an_address():
    offenders = {path.name: ADDRESS.findall(path.read_text())
                 for path in SCRIPTS.glob("*.js")}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_each_live_feature_has_its_own_script():
    assert {"live.js", "notifications.js", "releases.js", "review_board.js", "thread.js"} <= {
        p.name for p in SCRIPTS.glob("*.js")}
    for feature in ("notifications.js", "releases.js", "review_board.js", "thread.js"):
        text = (SCRIPTS / feature).read_text()
        assert "window.cohortLive" in text and "io(" not in text  # one shared connection
