"""Schemathesis against the real server: no 5xx, and every response as the OpenAPI says.

Not part of ``make test``: ``make api-fuzz`` runs these, all four at once (``pytest -m fuzz
-n 4 tests/fuzz``), and CI runs that after the suite. Each test is one run on a fresh
database — a temporary SQLite file, or a PostgreSQL schema of its own (``TEST_DATABASE_URL``;
``REQUIRE_POSTGRES=1`` makes its absence a failure) — migrated with ``flask db upgrade`` and
filled by ``flask demo seed``, served by ``python wsgi.py``, and fuzzed with the API token of
one demo person: the program owner, or a learner of the demo cohort. The owner's run leaves
token revocation out; the learner's revokes a decoy token only, so the run's own token lives
through it (checked at the end).

Settings and bounds are in ``tests/fuzz/schemathesis.toml``; ``API_FUZZ_ARGS`` adds ``st run``
options, e.g. ``API_FUZZ_ARGS="--seed 7 -n 200" make api-fuzz`` for a longer look. Each run
leaves its output, JUnit report and the server log in ``test-artifacts/api-fuzz/<database>-<role>/``
(a failure's output holds the request that reproduces it; ``API_FUZZ_ARGS="--report
junit,vcr"`` also records every request and response, which costs a sixth of the run).
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live_server import REPO_ROOT, LiveServer, serve_demo

pytestmark = pytest.mark.fuzz

CONFIG_FILE = Path(__file__).with_name("schemathesis.toml")
ARTIFACTS = REPO_ROOT / "test-artifacts" / "api-fuzz"
OPENAPI_PATH = "/api/v1/openapi.json"
DEMO_PASSWORD = "cohort-demo"
TRACEBACK = "Traceback (most recent call last):"
#: Each record of the server log starts with its time stamp.
LOG_RECORD = re.compile(r"^(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", re.MULTILINE)
#: A hard stop far above a normal run (about a minute), in case a bound stops working.
RUN_TIMEOUT = 900
#: Whose token each run uses.
ROLES = {"owner": "owner@demo.test", "learner": "learner1@demo.test"}


def unhandled_errors(log: Path) -> Counter:
    """The exception line ending each traceback in a server log, counted."""
    text = log.read_text(errors="replace") if log.exists() else ""
    found: Counter = Counter()
    for record in LOG_RECORD.split(text):
        if TRACEBACK in record:
            # The last traceback of a chain is the one the request died of.
            lines = record.rsplit(TRACEBACK, 1)[1].splitlines()
            found[next(line for line in lines if line and not line[0].isspace())] += 1
    return found


def _call(url: str, *, token: str | None = None,
          payload: dict | None = None) -> tuple[int, dict | None]:
    """GET the URL, or POST ``payload`` as JSON; the status, and the JSON answer on success."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 (local)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, None


@pytest.fixture
def artifacts(request) -> Path:
    """This run's own, emptied folder under test-artifacts/api-fuzz/."""
    folder = ARTIFACTS / request.node.callspec.id
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def live_server(database_url: str, artifacts: Path) -> Iterator[LiveServer]:
    """``python wsgi.py`` on a free port, on the migrated and seeded database."""
    # The fuzzer calls POST /api/v1/tokens hundreds of times from one address.
    with serve_demo(database_url, artifacts / "server.log", login_rate_limit="100000 per minute",
                    ready_path=OPENAPI_PATH) as server:
        yield server


def _token(server: LiveServer, email: str, name: str) -> dict:
    """A new API token of a demo person (``id`` and the secret ``token``)."""
    status, answer = _call(f"{server.url}/api/v1/tokens",
                           payload={"email": email, "password": DEMO_PASSWORD, "name": name})
    assert status == 201, f"no token for {email}: {status}"
    return answer


@pytest.mark.parametrize("role", ROLES)
def test_the_api_keeps_its_contract_under_fuzzing(role: str, live_server: LiveServer,
                                                 artifacts: Path):
    """One schemathesis run as ``role``: no 5xx, no undocumented response, token intact."""
    email = ROLES[role]
    decoy, token = (_token(live_server, email, name) for name in ("decoy", "api-fuzz"))
    output = artifacts / "schemathesis.txt"
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG_FILE), "run",
        live_server.url + OPENAPI_PATH,
        "--report", "junit", "--report-dir", str(artifacts), "--no-color",
        *(["--exclude-operation-id", "accounts_api_revoke_token"] if role == "owner" else []),
        *shlex.split(os.environ.get("API_FUZZ_ARGS", "")),
    ]
    with output.open("w") as out:
        # Run inside the artefacts folder: schemathesis keeps a cache in its working folder.
        done = subprocess.run(command, cwd=artifacts, stdout=out, stderr=subprocess.STDOUT,
                              env={**os.environ, "API_FUZZ_TOKEN": token["token"],
                                   "API_FUZZ_DECOY_TOKEN": str(decoy["id"])},
                              timeout=RUN_TIMEOUT, check=False)
    text = output.read_text(errors="replace")
    print(text)
    errors = unhandled_errors(live_server.log)
    if errors:
        print("Unhandled errors in the server log (last traceback line, count):")
        for line, count in errors.most_common():
            print(f"  {count:4d}  {line}")
    assert _call(f"{live_server.url}/api/v1/me", token=token["token"])[0] == 200, (
        f"the {role}'s token stopped working during the run, so the rest of it tested 401s")
    summary = re.findall(r"^=+ (.* in [\d.]+s) =+$", text, flags=re.MULTILINE)
    assert done.returncode == 0, (
        f"schemathesis ({role}): {summary[-1] if summary else 'no summary'}; "
        f"{len(errors)} distinct unhandled errors in the server log. "
        f"Details: {output} and {live_server.log}")
