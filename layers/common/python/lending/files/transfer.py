"""The AWS Transfer Family identity provider (a Lambda the server calls at each login): the hub's own
accounts and passwords, each account jailed to its own tree (layout.mappings) through LOGICAL home
directories. An empty answer refuses the login (Transfer Family's convention)."""

from __future__ import annotations

import os
from typing import Any

from .access import login

PROTOCOLS = ("FTP", "FTPS", "SFTP")
# Deployed, the template sets the role; `make invoke` (no Transfer Family there) shows a placeholder.
LOCAL_ROLE = "arn:aws:iam::000000000000:role/lending-local-ftp-read"


def answer(event: dict[str, Any]) -> dict[str, Any]:
    if event.get("protocol") not in PROTOCOLS or not event.get("password"):
        return {}  # SFTP with a key only: the hub's accounts have passwords, not keys
    access = login(event.get("username"), event.get("password"))
    if access is None:
        return {}
    from .layout import transfer_home_directory

    return {"Role": os.environ.get("FTP_ACCESS_ROLE_ARN") or LOCAL_ROLE, "HomeDirectoryType": "LOGICAL",
            "HomeDirectoryDetails": transfer_home_directory(os.environ["BUCKET_NAME"], access.tree)}
