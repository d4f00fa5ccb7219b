"""Accounts and v1 API keys."""

from __future__ import annotations

from typing import Any

from ..domain.accounts import Account, Role, api_key_id
from . import table


def _item(a: Account) -> dict[str, Any]:
    return {
        "pk": f"ACCOUNT#{a.gln}",
        "sk": "ACCOUNT",
        "type": "account",
        "gln": a.gln,
        "role": a.role.value,
        "name": a.name,
        "country": a.country,
        "secretHash": a.secret_hash,
        "members": list(a.members) or None,
        "parent": a.parent,
        "distributors": None if a.distributors is None else list(a.distributors),
        "callbackSecret": a.callback_secret,
        "settings": a.settings or None,
        # Every account by role (the FTP files job lists collectivities and resellers).
        "gsi1pk": f"ACCOUNTS#{a.role.value}",
        "gsi1sk": a.gln,
    }


def _account(item: dict[str, Any]) -> Account:
    return Account(
        gln=item["gln"],
        role=Role(item["role"]),
        name=item.get("name", ""),
        country=item.get("country", "FR"),
        secret_hash=item.get("secretHash"),
        members=tuple(item.get("members") or ()),
        parent=item.get("parent"),
        distributors=None if item.get("distributors") is None else tuple(item["distributors"]),
        callback_secret=item.get("callbackSecret"),
        settings=item.get("settings") or {},
    )


def save(account: Account) -> None:
    table.put(_item(account))


def get(gln: str) -> Account | None:
    item = table.get(f"ACCOUNT#{gln}", "ACCOUNT", consistent=False)
    return _account(item) if item else None


def save_api_key(key: str, gln: str) -> None:
    table.put({"pk": f"APIKEY#{api_key_id(key)}", "sk": "APIKEY", "type": "apikey", "gln": gln})


def by_api_key(key: str) -> Account | None:
    item = table.get(f"APIKEY#{api_key_id(key)}", "APIKEY", consistent=False)
    return get(item["gln"]) if item else None
