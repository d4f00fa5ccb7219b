"""Email on the local stack: SES is moto's, which keeps every message it accepts. The demo verifies
the default sender; `make run` prints each message and saves it under .local/mail/ (one .eml each);
tests read them with `sent()`."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from ..services import aws_clients, mailer
from .template import ROOT

MAIL_DIR = ROOT / ".local" / "mail"


@dataclass
class Mail:
    id: str
    sender: str
    to: list[str]
    subject: str
    body: str


def verify_sender() -> None:
    from email.utils import parseaddr

    aws_clients.client("sesv2").create_email_identity(EmailIdentity=parseaddr(mailer.sender())[1])


def sent(region: str = "eu-west-3") -> list[Mail]:
    """Every message the emulated SES accepted so far, oldest first (this process's moto)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    backend = ses_backends[DEFAULT_ACCOUNT_ID][region]
    return [Mail(m.id, m.source, [a for v in m.destinations.values() for a in v], m.subject, m.body)
            for m in backend.sent_messages if hasattr(m, "subject")]


def save(mail: Mail, folder: Path = MAIL_DIR) -> Path:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = mail.sender, ", ".join(mail.to), mail.subject
    message.set_content(mail.body)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{mail.id}.eml"
    path.write_bytes(bytes(message))
    return path


def watch(stopping: threading.Event, every: float = 1.0) -> threading.Thread:
    """Print and save each new message while the stack runs."""

    def run() -> None:
        seen = 0
        while not stopping.wait(every):
            try:
                mails = sent()
            except Exception:  # the emulator may not be up yet
                continue
            for mail in mails[seen:]:
                path = save(mail)
                print(f"\n--- email to {', '.join(mail.to)} ({path.relative_to(ROOT)})\n"
                      f"Subject: {mail.subject}\n\n"
                      f"{mail.body}---", flush=True)
            seen = len(mails)

    thread = threading.Thread(target=run, daemon=True, name="mail")
    thread.start()
    return thread
