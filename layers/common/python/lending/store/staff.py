"""Library console: staff accounts, their sessions and one-time tokens, sign-in failure counters, the
audit log, and the generation of each patron's API key. Access patterns:

- staff member    STAFF#<email> / STAFF                 GSI1 STAFFOF#<glnColl> / <email>  (the admin's list)
- session         SESSION#<sha256(token)> / SESSION     email, collectivity, csrf, mfa, epoch, times
- one-time token  STAFFTOKEN#<sha256(token)> / TOKEN    invite or reset: email, expiry (deleted when used)
- failures        RATE#signin#<account|address> / <window start>  count (fixed windows of 15 minutes)
- audit entry     AUDIT#<glnColl> / <at>#<random>       actor, action, target (newest first)
- patron API key  PATRONKEY#<glnColl>#<memberId> / KEY  generation (the key is derived, never stored); the
                                                 patron space password's Argon2id hash once the library sets one

Sessions, tokens and counters carry `ttl` (epoch seconds), a moment past which nothing reads them as valid
(the rules are in domain.staff, never the attribute). The table has no TTL (a project rule); a dead session
is deleted when it is next presented, a used token when it is used; the rest is inert (a clean-up job, or
a TTL on `ttl` alone, could sweep them)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from ..domain.dates import iso
from ..domain.staff import Session, Staff, StaffRole, StaffState
from . import table


def _staff_key(email: str) -> tuple[str, str]:
    return f"STAFF#{email}", "STAFF"


def _staff_item(s: Staff) -> dict[str, Any]:
    pk, sk = _staff_key(s.email)
    return {"pk": pk, "sk": sk, "type": "staff", "email": s.email, "glnColl": s.gln_coll, "role": s.role.value,
            "state": s.state.value, "library": s.library, "name": s.name, "passwordHash": s.password_hash,
            "totpSecret": s.totp_secret, "recovery": s.recovery or None, "epoch": s.epoch,
            "lastStep": s.last_step, "gsi1pk": f"STAFFOF#{s.gln_coll}", "gsi1sk": s.email}


def _staff(item: dict[str, Any]) -> Staff:
    return Staff(email=item["email"], gln_coll=item["glnColl"], role=StaffRole(item["role"]),
                 state=StaffState(item["state"]), library=item.get("library"), name=item.get("name", ""),
                 password_hash=item.get("passwordHash"), totp_secret=item.get("totpSecret"),
                 recovery=list(item.get("recovery") or []), epoch=int(item.get("epoch", 0)),
                 last_step=int(item.get("lastStep", 0)))


def get(email: str) -> Staff | None:
    item = table.get(*_staff_key(email))
    return _staff(item) if item else None


def create(s: Staff) -> bool:
    """A new staff member; False when the email is already someone's."""
    try:
        table.put(_staff_item(s), condition="attribute_not_exists(pk)")
        return True
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise


def save(s: Staff) -> None:
    table.put(_staff_item(s))


def of_collectivity(gln_coll: str) -> list[Staff]:
    return [_staff(i) for i in table.query("gsi1", "gsi1pk", f"STAFFOF#{gln_coll}")]


def take_step(email: str, step: int) -> bool:
    """Record TOTP time step `step` as used; False if it (or a later one) already was: a code is good
    once, even for two requests racing with it."""
    pk, sk = _staff_key(email)
    try:
        table.client().update_item(
            TableName=table.table_name(), Key=table.key(pk, sk), UpdateExpression="SET lastStep = :s",
            ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(lastStep) OR lastStep < :s)",
            ExpressionAttributeValues={":s": table.val(step)})
        return True
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise


def use_recovery(email: str, digest: str) -> bool:
    """Strike one recovery code out; False if it is not (or no longer) among the unused ones."""
    s = get(email)
    if s is None or digest not in s.recovery:
        return False
    left = [d for d in s.recovery if d != digest]
    pk, sk = _staff_key(email)
    try:
        table.client().update_item(
            TableName=table.table_name(), Key=table.key(pk, sk), UpdateExpression="SET recovery = :left",
            ConditionExpression="recovery = :was",
            ExpressionAttributeValues={":left": table.val(left), ":was": table.val(s.recovery)})
        return True
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise


# --- sessions ---

def save_session(s: Session) -> None:
    table.put({"pk": f"SESSION#{s.token_id}", "sk": "SESSION", "type": "session", "email": s.email,
               "glnColl": s.gln_coll, "createdAt": iso(s.created_at), "seenAt": iso(s.seen_at), "csrf": s.csrf,
               "mfa": s.mfa, "epoch": s.epoch, "ttl": int(s.expires().timestamp())})


def get_session(token_id: str) -> Session | None:
    item = table.get(f"SESSION#{token_id}", "SESSION")
    if item is None:
        return None
    return Session(token_id=token_id, email=item["email"], gln_coll=item["glnColl"],
                   created_at=datetime.fromisoformat(item["createdAt"]),
                   seen_at=datetime.fromisoformat(item["seenAt"]), csrf=item["csrf"], mfa=bool(item["mfa"]),
                   epoch=int(item.get("epoch", 0)))


def touch_session(token_id: str, now: datetime) -> None:
    table.client().update_item(TableName=table.table_name(), Key=table.key(f"SESSION#{token_id}", "SESSION"),
                               UpdateExpression="SET seenAt = :n", ConditionExpression="attribute_exists(pk)",
                               ExpressionAttributeValues={":n": table.val(iso(now))})


def delete_session(token_id: str) -> None:
    table.client().delete_item(TableName=table.table_name(), Key=table.key(f"SESSION#{token_id}", "SESSION"))


# --- one-time tokens (invitation, password reset) ---

def save_token(token_id: str, purpose: str, email: str, expires: datetime, **extra: Any) -> None:
    table.put({"pk": f"STAFFTOKEN#{token_id}", "sk": "TOKEN", "type": "staffToken", "purpose": purpose,
               "email": email, "expiresAt": iso(expires), "ttl": int(expires.timestamp()), **extra})


def get_token(token_id: str) -> dict[str, Any] | None:
    return table.get(f"STAFFTOKEN#{token_id}", "TOKEN")


def update_token(token_id: str, **fields: Any) -> None:
    table.client().update_item(TableName=table.table_name(), Key=table.key(f"STAFFTOKEN#{token_id}", "TOKEN"),
                               ConditionExpression="attribute_exists(pk)", **table.update_expr(fields))


def consume_token(token_id: str) -> dict[str, Any] | None:
    """Delete the token and return it as it was; None if it was already used (or never was)."""
    try:
        out = table.client().delete_item(
            TableName=table.table_name(), Key=table.key(f"STAFFTOKEN#{token_id}", "TOKEN"),
            ConditionExpression="attribute_exists(pk)", ReturnValues="ALL_OLD")
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return None
        raise
    return table.de(out.get("Attributes"))


# --- sign-in failures ---

def failures(name: str, window: str) -> int:
    item = table.get(f"RATE#signin#{name}", window, consistent=True)
    return int(item.get("count", 0)) if item else 0


def add_failure(name: str, window: str, ttl: int) -> int:
    out = table.client().update_item(
        TableName=table.table_name(), Key=table.key(f"RATE#signin#{name}", window),
        UpdateExpression="ADD #c :one SET #t = :t, #ttl = :ttl",
        ExpressionAttributeNames={"#c": "count", "#t": "type", "#ttl": "ttl"},
        ExpressionAttributeValues={":one": table.val(1), ":t": table.val("rate"), ":ttl": table.val(ttl)},
        ReturnValues="ALL_NEW")
    return int((table.de(out["Attributes"]) or {}).get("count", 0))


# --- audit log ---

def audit(gln_coll: str, at: datetime, actor: str, action: str, target: str, detail: str = "") -> None:
    table.put({"pk": f"AUDIT#{gln_coll}", "sk": f"{iso(at)}#{secrets.token_hex(4)}", "type": "audit",
               "at": iso(at), "actor": actor, "action": action, "target": target, "detail": detail or None})


def audit_log(gln_coll: str, limit: int = 200) -> list[dict[str, Any]]:
    return table.query(None, "pk", f"AUDIT#{gln_coll}", forward=False, limit=limit, consistent=True)


# --- patron API keys ---

def patron_key_generation(gln_coll: str, member_id: str) -> int:
    item = table.get(f"PATRONKEY#{gln_coll}#{member_id}", "KEY")
    return int(item.get("generation", 0)) if item else 0


def next_patron_key_generation(gln_coll: str, member_id: str) -> int:
    out = table.client().update_item(
        TableName=table.table_name(), Key=table.key(f"PATRONKEY#{gln_coll}#{member_id}", "KEY"),
        UpdateExpression="ADD generation :one SET #t = :t", ExpressionAttributeNames={"#t": "type"},
        ExpressionAttributeValues={":one": table.val(1), ":t": table.val("patronKey")}, ReturnValues="ALL_NEW")
    return int((table.de(out["Attributes"]) or {})["generation"])


def patron_credentials(gln_coll: str, member_id: str) -> tuple[int, str | None]:
    """The patron's key generation and, when the library set one, their patron space password's hash."""
    item = table.get(f"PATRONKEY#{gln_coll}#{member_id}", "KEY")
    return (int(item.get("generation", 0)), item.get("passwordHash")) if item else (0, None)


def set_patron_password(gln_coll: str, member_id: str, password_hash: str) -> int:
    """Store the password's hash and move to a new key generation (open patron sessions end)."""
    out = table.client().update_item(
        TableName=table.table_name(), Key=table.key(f"PATRONKEY#{gln_coll}#{member_id}", "KEY"),
        UpdateExpression="ADD generation :one SET #t = :t, passwordHash = :h", ExpressionAttributeNames={"#t": "type"},
        ExpressionAttributeValues={":one": table.val(1), ":t": table.val("patronKey"), ":h": table.val(password_hash)},
        ReturnValues="ALL_NEW")
    return int((table.de(out["Attributes"]) or {})["generation"])
