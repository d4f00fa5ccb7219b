"""Emails to patrons (SES v2). The sender is MAIL_FROM, an identity verified in SES; the local stack
verifies the default one on its emulator and shows every message sent (see README, library API v1)."""

from __future__ import annotations

import os
from datetime import datetime

from ..domain.dates import iso
from .aws_clients import client

DEFAULT_FROM = "Lending hub <loans@lending-hub.example>"


def sender() -> str:
    return os.environ.get("MAIL_FROM") or DEFAULT_FROM


def loan_email(title: str, url: str, expires_at: datetime) -> tuple[str, str]:
    """Subject and text of the email that carries a loan's download link."""
    subject = f"Your loan: {title}"
    text = (f"Hello,\n\nYour loan of \"{title}\" is ready. Download the book (EPUB) from this link:\n\n"
            f"{url}\n\n"
            f"The loan and the link end on {iso(expires_at)}.\n\nYour library\n")
    return subject, text


def hold_email(title: str, hold_expires_at: datetime) -> tuple[str, str]:
    """Subject and text of the email that tells a patron a copy is reserved for them."""
    subject = f"Your hold is ready: {title}"
    text = (f"Hello,\n\nA copy of \"{title}\" is now reserved for you. Borrow it from your library before "
            f"{iso(hold_expires_at)}; after that it goes to the next reader in line.\n\nYour library\n")
    return subject, text


# Whose console an invitation opens: words of both languages (the invited person's is not known yet).
_CONSOLES = {"library": ("the library console", "la console"),
             "distributor": ("the distributor console", "la console diffuseur"),
             "reseller": ("the reseller console", "la console revendeur")}


def invitation_email(organisation: str, kind: str, link: str) -> tuple[str, str]:
    """Subject and text of a console invitation (staff invited by their admin, or an organisation's first
    admin by the operator): the one-time link, good three days (domain.staff.INVITE_TTL)."""
    en, fr = _CONSOLES.get(kind, _CONSOLES["library"])
    subject = ("Your library console account" if kind == "library" else "Your console account") + \
        " / Votre accès à la console"
    text = (f"You are invited to {en} of {organisation}. Open this link within three days:\n"
            f"Vous êtes invité(e) à {fr} de {organisation}. Ouvrez ce lien dans les trois jours :\n\n"
            f"{link}\n")
    return subject, text


def send(to: str, subject: str, text: str) -> str:
    """Send a plain-text email; returns SES's message id."""
    out = client("sesv2").send_email(
        FromEmailAddress=sender(), Destination={"ToAddresses": [to]},
        Content={"Simple": {"Subject": {"Data": subject, "Charset": "UTF-8"},
                            "Body": {"Text": {"Data": text, "Charset": "UTF-8"}}}})
    return str(out["MessageId"])
