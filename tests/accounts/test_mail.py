"""The outbox: queued in the business transaction, delivered over real SMTP, retried, once."""

import logging
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from sqlalchemy import select

from app import scheduler
from app.accounts import services
from app.db import transaction, utcnow
from app.mail import MAX_ATTEMPTS, OutboxEmail, deliver_pending, queue_email
from app.notifications.jobs import deliver_outbox
from tests.factories import create_user


def _queue(db, **values) -> int:
    """Queue one message in a committed transaction; return its id."""
    message = {"to": "someone@example.com", "subject": "Hello", "body": "Hi there."}
    message.update(values)
    with db() as session:
        row = queue_email(session, **message)
        session.flush()
        return row.id


def _row(db, row_id) -> OutboxEmail:
    """An outbox row as stored now."""
    with db() as session:
        return session.get(OutboxEmail, row_id)


def _deliver(app, db, now):
    """Run one delivery pass at ``now``; return how many were sent."""
    with db() as session:
        return deliver_pending(session, app.config, now)


def _parsed(envelope):
    """The RFC 5322 message an SMTP server received."""
    return message_from_bytes(envelope.original_content, policy=default_policy)


# --- queueing ---------------------------------------------------------------------------------

def test_queued_mail_waits_for_the_commit(app, db, outbox):
    with db(), pytest.raises(RuntimeError), transaction() as session:
        queue_email(session, to="a@example.com", subject="Lost", body="x")
        raise RuntimeError("the business action failed")
    assert outbox() == []


def test_an_invitation_that_fails_queues_no_mail(app, db, outbox, monkeypatch):
    def broken_link(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "absolute_url", broken_link)
    with db(), pytest.raises(RuntimeError):
        services.invite_user(None, "ghost@example.com", now=utcnow())
    assert outbox() == []
    with db():
        assert services.get_user_by_email("ghost@example.com") is None


def test_a_dedupe_key_queues_one_copy(app, db, outbox):
    with db() as session:
        first = queue_email(session, to="a@example.com", subject="Once", body="x",
                            dedupe_key="reminder:1:2")
        second = queue_email(session, to="a@example.com", subject="Once", body="x",
                             dedupe_key="reminder:1:2")
        assert first is not None and second is None
    with db() as session:
        assert queue_email(session, to="a@example.com", subject="Once", body="x",
                           dedupe_key="reminder:1:2") is None
        assert queue_email(session, to="a@example.com", subject="Other", body="x",
                           dedupe_key="reminder:1:3") is not None
    assert [m.subject for m in outbox()] == ["Once", "Other"]


# --- delivery without a mail server -------------------------------------------------------------

def test_without_a_mail_server_messages_are_logged_and_marked_sent(app, db, caplog):
    row_id = _queue(db, body="Your link: http://localhost/invite/abc")
    now = utcnow()
    with caplog.at_level(logging.INFO, logger="app.mail"):
        assert _deliver(app, db, now) == 1
    assert "http://localhost/invite/abc" in caplog.text
    row = _row(db, row_id)
    assert (row.sent_at, row.attempts, row.last_error, row.body_text) == (now, 1, None, "")
    assert _deliver(app, db, now + timedelta(hours=1)) == 0


def test_messages_not_yet_due_wait(app, db):
    row_id = _queue(db)
    with db() as session:
        session.get(OutboxEmail, row_id).next_attempt_at = utcnow() + timedelta(hours=1)
    assert _deliver(app, db, utcnow()) == 0
    assert _row(db, row_id).sent_at is None


def test_the_scheduler_job_delivers_the_outbox(app, db, monkeypatch):
    row_id = _queue(db)
    monkeypatch.setattr(scheduler, "_app", app)
    assert deliver_outbox() == 1
    assert _row(db, row_id).sent_at is not None
    assert deliver_outbox() == 0


# --- delivery over SMTP -------------------------------------------------------------------------

class TestSmtp:
    """A real SMTP server on 127.0.0.1 receives what the outbox sends."""

    @pytest.fixture
    def config_overrides(self, smtp_port):
        return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_port,
                "MAIL_FROM": "Cohort Commons <no-reply@cohort-commons.test>"}

    def test_an_invitation_arrives(self, app, db, smtp_server, link_for):
        handler = smtp_server()
        with db():
            services.invite_user(None, "ines@example.com", now=utcnow())
        link = link_for("ines@example.com")
        assert _deliver(app, db, utcnow()) == 1
        [envelope] = handler.messages
        assert envelope.rcpt_tos == ["ines@example.com"]
        assert envelope.mail_from == "no-reply@cohort-commons.test"
        message = _parsed(envelope)
        assert message["To"] == "ines@example.com"
        assert message["Subject"] == "You are invited to Cohort Commons"
        assert message["Message-ID"]
        body = message.get_content()
        assert "http://localhost" + link in body
        with db() as session:
            row = session.scalars(select(OutboxEmail)).one()
            assert row.sent_at is not None and row.attempts == 1
            # The link lives on in the mailbox only, not in the outbox table.
            assert row.body_text == "" and "/invite/" not in row.body_text
            assert row.subject == "You are invited to Cohort Commons"

    def test_a_failed_message_keeps_its_body_for_the_retry(self, app, db):
        row_id = _queue(db, body="Your reset link: http://localhost/reset/secret")
        assert _deliver(app, db, utcnow()) == 0  # nobody listens on the port
        assert _row(db, row_id).body_text == "Your reset link: http://localhost/reset/secret"

    def test_a_sent_message_is_not_sent_again(self, app, db, smtp_server):
        handler = smtp_server()
        _queue(db)
        now = utcnow()
        assert _deliver(app, db, now) == 1
        assert _deliver(app, db, now + timedelta(hours=1)) == 0
        assert len(handler.messages) == 1

    def test_with_the_server_down_the_message_is_retried_later(self, app, db, smtp_server):
        row_id = _queue(db, to="later@example.com", subject="Retry me")
        now = utcnow()
        assert _deliver(app, db, now) == 0
        row = _row(db, row_id)
        assert row.sent_at is None
        assert row.attempts == 1
        assert row.last_error
        assert row.next_attempt_at > now
        # Not due yet: a run a moment later does not even try.
        assert _deliver(app, db, now + timedelta(seconds=30)) == 0
        assert _row(db, row_id).attempts == 1
        handler = smtp_server()
        due = row.next_attempt_at
        assert _deliver(app, db, due) == 1
        row = _row(db, row_id)
        assert row.sent_at == due
        assert row.last_error is None and row.attempts == 2
        assert [e.rcpt_tos for e in handler.messages] == [["later@example.com"]]
        assert _parsed(handler.messages[0])["Subject"] == "Retry me"

    def test_the_wait_grows_with_each_failure(self, app, db):
        row_id = _queue(db)
        now = utcnow()
        waits = []
        for _ in range(3):
            _deliver(app, db, now)
            row = _row(db, row_id)
            waits.append(row.next_attempt_at - now)
            now = row.next_attempt_at
        assert waits[0] < waits[1] < waits[2]

    def test_after_the_last_attempt_the_message_is_given_up(self, app, db, smtp_server):
        row_id = _queue(db)
        with db() as session:
            session.get(OutboxEmail, row_id).attempts = MAX_ATTEMPTS
        handler = smtp_server()
        assert _deliver(app, db, utcnow() + timedelta(days=1)) == 0
        assert handler.messages == []

    def test_one_bad_message_does_not_stop_the_others(self, app, db, smtp_server):
        handler = smtp_server()
        first = _queue(db, to="first@example.com")
        bad = _queue(db, to="bad@example.com\r\nBcc: victim@example.com")
        last = _queue(db, to="last@example.com")
        now = utcnow()
        assert _deliver(app, db, now) == 2
        assert sorted(e.rcpt_tos[0] for e in handler.messages) == \
            ["first@example.com", "last@example.com"]
        assert _row(db, first).sent_at == _row(db, last).sent_at == now
        row = _row(db, bad)
        assert row.sent_at is None and row.attempts == 1 and row.last_error
        assert _deliver(app, db, now + timedelta(hours=1)) == 0
        assert len(handler.messages) == 2

    def test_a_reset_request_reaches_the_mailbox_and_enumeration_does_not(self, app, db,
                                                                           smtp_server):
        handler = smtp_server()
        with db() as session:
            user = create_user(session)
            services.request_password_reset(user.email, now=utcnow())
            services.request_password_reset("nobody@example.com", now=utcnow())
        assert _deliver(app, db, utcnow()) == 1
        assert [e.rcpt_tos for e in handler.messages] == [[user.email]]
        assert "/reset/" in _parsed(handler.messages[0]).get_content()


class TestSmtpWithTls:
    """With MAIL_USE_TLS the server's certificate is checked before anything is sent."""

    @pytest.fixture
    def config_overrides(self, smtp_port):
        return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_port, "MAIL_USE_TLS": True}

    def test_an_untrusted_certificate_stops_the_delivery(self, app, db, smtp_server,
                                                         tls_certificate):
        handler = smtp_server(tls=tls_certificate)
        row_id = _queue(db)
        assert _deliver(app, db, utcnow()) == 0
        assert handler.messages == []
        row = _row(db, row_id)
        assert row.sent_at is None and "certificate" in row.last_error.lower()

    def test_a_trusted_certificate_delivers_over_tls(self, app, db, smtp_server,
                                                     tls_certificate, monkeypatch):
        monkeypatch.setenv("SSL_CERT_FILE", tls_certificate[0])
        handler = smtp_server(tls=tls_certificate)
        _queue(db, to="secure@example.com")
        assert _deliver(app, db, utcnow()) == 1
        [envelope] = handler.messages
        assert envelope.rcpt_tos == ["secure@example.com"] and envelope.over_tls

    def test_a_server_without_starttls_gets_nothing(self, app, db, smtp_server):
        handler = smtp_server()
        row_id = _queue(db)
        assert _deliver(app, db, utcnow()) == 0
        assert handler.messages == []
        assert "STARTTLS" in _row(db, row_id).last_error
