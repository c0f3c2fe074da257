"""What the page benchmarks share: a gunicorn server, signing in, and wrk.

``bench/pages.py`` and ``bench/thread_page.py`` serve the app and their ceilings the same
way (gunicorn, sync workers) and drive them with the same wrk settings, so their figures
can be set beside each other.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PASSWORD = "bench-password"  # noqa: S105 (throwaway accounts in a throwaway database)
USER_AGENT = "bench-pages"


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A gunicorn master serving one WSGI app on a local port.

    It is ready when ``ready`` answers: ``/hello`` for the ceiling apps, ``/login`` for ours.
    """

    def __init__(self, target: str, env: dict, workers: int, chdir: Path,
                 ready: str | None = None):
        self.port = free_port()
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-w", str(workers),
             "-k", "sync", "-b", f"127.0.0.1:{self.port}", "--chdir", str(chdir),
             "--log-level", "warning", target],
            env={**os.environ, **env}, cwd=chdir)
        self.base = f"http://127.0.0.1:{self.port}"
        ready = ready or ("/hello" if "ceiling" in target else "/login")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.base + ready, timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        else:
            self.stop()
            raise SystemExit(f"{target} did not start")

    def worker_pids(self) -> list[int]:
        """The master's worker processes."""
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.process.pid)],
                             capture_output=True, text=True, check=False).stdout
        return [int(pid) for pid in out.split()]

    def peak_rss_mb(self) -> float:
        """The largest peak resident set (VmHWM) among the workers, in MB."""
        peaks = []
        for pid in self.worker_pids():
            status = Path(f"/proc/{pid}/status").read_text()
            peaks.append(int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024)
        return max(peaks)

    def cpu_seconds(self) -> float:
        """User and system CPU time the workers have used so far."""
        total = 0
        for pid in self.worker_pids():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        """Stop the master and its workers."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def sign_in(base: str, email: str, password: str = PASSWORD) -> tuple[str, str]:
    """A session cookie header and an API bearer token for one account."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    # Flask-Login's strong session protection ties the session to the browser's agent.
    opener.addheaders = [("User-Agent", USER_AGENT)]
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrf_token": token, "email": email,
                                   "password": password}).encode()
    opener.open(base + "/login", data=form).read()
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    request = urllib.request.Request(
        base + "/api/v1/tokens", method="POST",
        data=json.dumps({"email": email, "password": password, "name": "bench"}).encode(),
        headers={"Content-Type": "application/json"})
    bearer = json.loads(urllib.request.urlopen(request).read())["token"]
    return cookie, bearer


def check(url: str, header: str | None) -> int:
    """Fetch once and insist on a 200 with a body (a redirect to sign-in would be cheap)."""
    headers = {"User-Agent": USER_AGENT}
    if header:
        name, value = header.split(": ", 1)
        headers[name] = value
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request) as response:
        body = response.read()
        if response.status != 200 or response.url != url:
            raise SystemExit(f"{url}: {response.status} {response.url}")
        return len(body)


@dataclass
class WrkRun:
    """What one wrk run measured."""

    requests_per_s: float
    #: Latency percentiles, in milliseconds.
    p50_ms: float
    p99_ms: float
    #: Requests answered during the run.
    requests: int


_LATENCY_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _latency_ms(out: str, percent: int) -> float:
    """One percentile of wrk's ``--latency`` distribution, in milliseconds."""
    found = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE)
    return float(found.group(1)) * _LATENCY_UNITS[found.group(2)] if found else float("nan")


def wrk_run(url: str, header: str | None, duration: int, connections: int,
            size: int | None = None) -> WrkRun:
    """Requests per second and latency percentiles from one wrk run.

    wrk counts only 4xx and 5xx answers as errors; a redirect to the sign-in page would be
    cheap and look fast, so the bytes read per answer must also match the page's size.
    """
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s",
               "--latency", "-H", f"User-Agent: {USER_AGENT}", url]
    if header:
        command[1:1] = ["-H", header]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"{url}: error answers\n{out}")
    done = re.search(r"(\d+) requests in [\d.]+\w+, ([\d.]+)(\w+) read", out)
    requests, amount, unit = int(done.group(1)), float(done.group(2)), done.group(3)
    read = amount * {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}[unit]
    if size and requests and read / requests < 0.9 * size:
        raise SystemExit(f"{url}: answers smaller than the page (redirects?)\n{out}")
    return WrkRun(float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
                  _latency_ms(out, 50), _latency_ms(out, 99), requests)


def wrk(url: str, header: str | None, duration: int, connections: int,
        size: int | None = None) -> float:
    """Requests per second from one wrk run (see :func:`wrk_run`)."""
    return wrk_run(url, header, duration, connections, size).requests_per_s
