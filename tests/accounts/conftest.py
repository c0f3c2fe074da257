"""Fixtures of the account tests: production password hashing, the outbox, more browsers, SMTP."""

import re
import socket
import ssl
import subprocess
import threading

import pytest
from sqlalchemy import select

from app.config import PASSWORD_HASH_METHOD
from app.mail import OutboxEmail

LINK = re.compile(r"http://localhost(/(?:invite|reset)/[A-Za-z0-9_\-]+)")


@pytest.fixture
def real_password_hashing(app):
    """Hash with the production method in this test (test apps use a cheap one)."""
    app.config["PASSWORD_HASH_METHOD"] = PASSWORD_HASH_METHOD


@pytest.fixture
def outbox(db):
    """``outbox(to=None)``: the queued e-mails (optionally to one address), oldest first."""
    def read(to: str | None = None) -> list[OutboxEmail]:
        with db() as session:
            query = select(OutboxEmail).order_by(OutboxEmail.id)
            if to is not None:
                query = query.where(OutboxEmail.to_address == to)
            return list(session.scalars(query))
    return read


@pytest.fixture
def link_for(outbox):
    """``link_for(email)``: the path of the newest invitation or reset link sent to it."""
    def find(email: str) -> str:
        messages = outbox(email)
        assert messages, f"no e-mail to {email}"
        match = LINK.search(messages[-1].body_text)
        assert match, messages[-1].body_text
        return match.group(1)
    return find


@pytest.fixture
def new_client(app, client):
    """``new_client()``: another browser with its own cookies (and the CSRF helpers)."""
    return app.test_client


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class CollectingHandler:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages = []
        self.received = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        """Store the envelope (and whether it came over TLS) and accept it."""
        envelope.over_tls = session.ssl is not None
        self.messages.append(envelope)
        self.received.set()
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_port() -> int:
    """A free port for a local SMTP server."""
    return free_port()


@pytest.fixture(scope="session")
def tls_certificate(tmp_path_factory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 and its key: (certificate path, key path)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", key, "-out", cert],
        check=True, capture_output=True)
    return cert, key


@pytest.fixture
def smtp_server(smtp_port):
    """``smtp_server(tls=None)`` starts a real SMTP server on 127.0.0.1:smtp_port.

    ``tls`` is a (certificate, key) pair: the server then offers STARTTLS and requires it.
    Returns the handler that collects the messages.
    """
    from aiosmtpd.controller import Controller

    controllers = []

    def start(tls: tuple[str, str] | None = None) -> CollectingHandler:
        handler = CollectingHandler()
        options = {}
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*tls)
            options = {"tls_context": context, "require_starttls": True}
        controller = Controller(handler, hostname="127.0.0.1", port=smtp_port, **options)
        controller.start()
        controllers.append(controller)
        return handler

    yield start
    for controller in controllers:
        controller.stop()
