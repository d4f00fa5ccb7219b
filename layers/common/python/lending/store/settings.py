"""A collectivity's own settings, as its network admin changes them from the console: the v1 limits and
default loan length (Account.settings), the early-return callback secret, and the v1 API key.

The current API key's id is kept on the account (`apiKeyId`) so that rotating it can delete the old
APIKEY item: the old key stops working at once (beyond the v1 door's one-minute warm cache)."""

from __future__ import annotations

from typing import Any

from ..domain.accounts import api_key_id
from . import table
from .accounts import save_api_key


def _key(gln: str) -> dict[str, Any]:
    return table.key(f"ACCOUNT#{gln}", "ACCOUNT")


def set_settings(gln: str, settings: dict[str, Any]) -> None:
    table.client().update_item(TableName=table.table_name(), Key=_key(gln), ConditionExpression="attribute_exists(pk)",
                               **table.update_expr({"settings": settings}))


def set_callback_secret(gln: str, secret: str) -> None:
    table.client().update_item(TableName=table.table_name(), Key=_key(gln), ConditionExpression="attribute_exists(pk)",
                               **table.update_expr({"callbackSecret": secret}))


def current_api_key_id(gln: str) -> str | None:
    item = table.get(f"ACCOUNT#{gln}", "ACCOUNT")
    return str(item["apiKeyId"]) if item and item.get("apiKeyId") else None


def rotate_api_key(gln: str, new_key: str) -> None:
    """The new key works from now on, the one recorded before does not."""
    old = current_api_key_id(gln)
    save_api_key(new_key, gln)
    table.client().update_item(TableName=table.table_name(), Key=_key(gln), ConditionExpression="attribute_exists(pk)",
                               **table.update_expr({"apiKeyId": api_key_id(new_key)}))
    if old and old != api_key_id(new_key):
        table.client().delete_item(TableName=table.table_name(), Key=table.key(f"APIKEY#{old}", "APIKEY"))


def record_api_key(gln: str, key: str) -> None:
    """Remember which key is current (the demo data and deployment scripts write keys with save_api_key)."""
    table.client().update_item(TableName=table.table_name(), Key=_key(gln), ConditionExpression="attribute_exists(pk)",
                               **table.update_expr({"apiKeyId": api_key_id(key)}))
