"""The e-mail outbox: messages are written in the business transaction, sent afterwards."""

import logging
import smtplib
import ssl
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import ForeignKey, Index, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Model, utcnow
from app.text import as_one_line, fit

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
#: As long as ``OutboxEmail.subject`` may be.
SUBJECT_MAX = 200


class OutboxEmail(Model):
    """An e-mail waiting to be sent, or the record that it was."""

    __tablename__ = "outbox_emails"
    __table_args__ = (Index("ix_outbox_emails_pending", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    #: The recipient's account, when there is one (kept for preferences and erasure).
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    subject: Mapped[str] = mapped_column(String(SUBJECT_MAX))
    #: Blanked once sent: bodies carry invitation and password-reset links, which must not
    #: outlive their delivery in a table that backups and support staff see.
    body_text: Mapped[str] = mapped_column(Text)
    #: Makes a side effect happen once: a second message with the same key is not queued.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))


def queue_email(session: Session, *, to: str, subject: str, body: str,
                user_id: int | None = None, dedupe_key: str | None = None) -> OutboxEmail | None:
    """Add a message to the outbox in the caller's transaction.

    With a ``dedupe_key`` already used, nothing is added and None is returned.
    """
    if dedupe_key is not None:
        existing = session.scalar(
            select(OutboxEmail.id).where(OutboxEmail.dedupe_key == dedupe_key))
        if existing is not None:
            return None
    message = OutboxEmail(to_address=to, subject=fit(subject, SUBJECT_MAX), body_text=body,
                          user_id=user_id, dedupe_key=dedupe_key)
    session.add(message)
    return message


def _build_message(config: dict, row: OutboxEmail) -> EmailMessage:
    """Turn an outbox row into an RFC 5322 message."""
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = row.to_address
    # One line whatever was queued: a header cannot carry a line break, and a row that
    # cannot be sent would be retried for nothing.
    message["Subject"] = as_one_line(row.subject)
    message["Message-ID"] = make_msgid(idstring=f"outbox-{row.id}")
    message.set_content(row.body_text)
    return message


def _send(config: dict, messages: list[EmailMessage]) -> None:
    """Send messages over one SMTP connection."""
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
        if config["MAIL_USE_TLS"]:
            # Without a context, smtplib encrypts but does not check the server's
            # certificate, so anyone in between could read the password sent next.
            smtp.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        for message in messages:
            smtp.send_message(message)


def deliver_pending(session: Session, config: dict, now: datetime, limit: int = 100) -> int:
    """Send due outbox messages; failures are retried later with back-off.

    Without ``MAIL_SERVER`` messages are written to the log and marked sent, so a
    development machine shows invitation and reset links in its console.
    Returns the number of messages sent.
    """
    rows = session.scalars(
        select(OutboxEmail)
        .where(OutboxEmail.sent_at.is_(None), OutboxEmail.next_attempt_at <= now,
               OutboxEmail.attempts < MAX_ATTEMPTS)
        .order_by(OutboxEmail.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    sent = 0
    for row in rows:
        try:
            message = _build_message(config, row)
            if config.get("MAIL_SERVER"):
                _send(config, [message])
            else:
                log.info("e-mail (no MAIL_SERVER set) to %s: %s\n%s",
                         row.to_address, row.subject, row.body_text)
        # Any failure (SMTP, network, a header the message cannot carry) only defers this
        # row: an exception escaping here would undo the whole batch's sent marks, and
        # the messages already delivered would go out again on the next run.
        except Exception as error:
            row.attempts += 1
            row.last_error = str(error)[:500]
            row.next_attempt_at = now + timedelta(minutes=2 ** row.attempts)
            log.warning("sending e-mail %s failed: %s", row.id, error)
        else:
            row.attempts += 1
            row.sent_at = now
            row.last_error = None
            row.body_text = ""
            sent += 1
    session.commit()
    return sent

