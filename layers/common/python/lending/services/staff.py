"""Library console sign-in: invitations, passwords (Argon2id), TOTP (RFC 6238) and recovery codes,
server-side sessions, password reset by email, and throttling of failed attempts.

Every sign-in takes two steps: the password opens a short pending session, the code (or a recovery
code) turns it into a full one under a new token. Failures of either step count against the account
and against the client's address; past the limit every attempt is refused until the window ends, right
or wrong, so guessing a 6-digit code is out of reach."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from ..domain.accounts import Account, Role
from ..domain.refusals import Reason, Refused
from ..domain.staff import (
    INVITE_TTL,
    RECOVERY_CODES,
    RESET_TTL,
    THROTTLE_WINDOW,
    Session,
    Staff,
    StaffRole,
    StaffState,
    check_password,
    normal_email,
    throttled,
    window,
    window_left,
)
from ..domain.values import Value
from ..store import accounts as account_store
from ..store import staff as store
from ..text import same_secret
from .context import Ctx

ISSUER = "Lending hub"
_hasher = None


def _ph() -> Any:
    """Argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): memory-hard enough against
    guessing hardware, and a sign-in stays well under a second on a 512 MB Lambda's fraction of a CPU
    (the library's defaults, 64 MiB and 4 lanes, take several times as long there). The parameters
    travel in each hash, so they can be raised later without breaking stored ones. Built on first use."""
    global _hasher
    if _hasher is None:
        from argon2 import PasswordHasher

        _hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
    return _hasher


def hash_password(password: str) -> str:
    return str(_ph().hash(password))


def verify_password(stored: str | None, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    if not stored:
        _ph().hash(password)  # as slow as a real check: an unknown email takes as long as a wrong password
        return False
    try:
        return bool(_ph().verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False


def digest(token: str) -> str:
    """What the table keeps of a session, invitation or reset token."""
    return hashlib.sha256(token.encode()).hexdigest()


# --- throttling ---

class Attempt(Value):
    email: str
    address: str

    def __init__(self, email: str, address: str) -> None:
        self._init(email, address)


def check_throttle(ctx: Ctx, attempt: Attempt) -> None:
    w = window(ctx.now)
    if throttled(store.failures(f"account#{attempt.email}", w), store.failures(f"address#{attempt.address}", w)):
        raise Refused(Reason.THROTTLED, minutes=window_left(ctx.now))


def fail(ctx: Ctx, attempt: Attempt, reason: Reason) -> Refused:
    w, ttl = window(ctx.now), int((ctx.now + 2 * THROTTLE_WINDOW).timestamp())
    store.add_failure(f"account#{attempt.email}", w, ttl)
    store.add_failure(f"address#{attempt.address}", w, ttl)
    return Refused(reason)


# --- TOTP and recovery codes ---

def new_totp_secret() -> str:
    import pyotp

    return str(pyotp.random_base32())


def provisioning_uri(secret: str, email: str) -> str:
    import pyotp

    return str(pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER))


def _totp_step(secret: str, code: str, ctx: Ctx) -> int | None:
    """The time step the code belongs to (now, or one step either side for clock drift), or None."""
    import pyotp

    code = code.strip().replace(" ", "")
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = int(ctx.now.timestamp())
    for drift in (0, -1, 1):
        at = now + drift * totp.interval
        if same_secret(totp.at(at), code):
            return at // totp.interval
    return None


def _new_recovery_codes() -> tuple[list[str], list[str]]:
    """Plain codes (shown once) and their digests (kept)."""
    codes = ["-".join(secrets.token_hex(3) for _ in range(2)) for _ in range(RECOVERY_CODES)]
    return codes, [digest(c) for c in codes]


# --- sessions ---

def _open_session(ctx: Ctx, staff: Staff, mfa: bool) -> tuple[str, Session]:
    token = secrets.token_urlsafe(32)
    session = Session(token_id=digest(token), email=staff.email, gln_coll=staff.gln_coll, created_at=ctx.now,
                      seen_at=ctx.now, csrf=secrets.token_urlsafe(24), mfa=mfa, epoch=staff.epoch)
    store.save_session(session)
    return token, session


def session_of(ctx: Ctx, token: str | None) -> tuple[Staff, Session] | None:
    """The staff member and session behind a cookie's token, if it is still alive (touched once a minute
    at most: idle expiry without a write per page)."""
    if not token or len(token) > 100:
        return None
    session = store.get_session(digest(token))
    if session is None:
        return None
    staff = store.get(session.email)
    if not session.alive(ctx.now, staff):
        store.delete_session(session.token_id)
        return None
    assert staff is not None
    if session.mfa and (ctx.now - session.seen_at).total_seconds() > 60:
        store.touch_session(session.token_id, ctx.now)
    return staff, session


def sign_out(token: str | None) -> None:
    if token and len(token) <= 100:
        store.delete_session(digest(token))


def sign_in(ctx: Ctx, email_text: str, password: str, address: str) -> tuple[str, Session]:
    """Step one: the password. Returns a pending session's token (the code is asked next)."""
    email = normal_email(email_text) or email_text.strip().lower()[:254]
    attempt = Attempt(email, address)
    check_throttle(ctx, attempt)
    staff = store.get(email) if normal_email(email) else None
    ok = verify_password(staff.password_hash if staff else None, password[:500])
    if not ok or staff is None or staff.state is not StaffState.ACTIVE:
        raise fail(ctx, attempt, Reason.BAD_CREDENTIALS)
    return _open_session(ctx, staff, mfa=False)


def verify_code(ctx: Ctx, token: str | None, code: str, address: str) -> tuple[str, Session]:
    """Step two: a TOTP code, or one of the recovery codes. The pending session is replaced by a full
    one under a new token (no fixation)."""
    found = session_of(ctx, token)
    if found is None or found[1].mfa:
        raise Refused(Reason.NO_PENDING_SIGN_IN)
    staff, pending = found
    attempt = Attempt(staff.email, address)
    check_throttle(ctx, attempt)
    step = _totp_step(staff.totp_secret or "", code, ctx) if staff.totp_secret else None
    if step is not None:
        if not store.take_step(staff.email, step):
            raise fail(ctx, attempt, Reason.CODE_ALREADY_USED)
    elif not store.use_recovery(staff.email, digest(code.strip().lower())):
        raise fail(ctx, attempt, Reason.BAD_CODE)
    store.delete_session(pending.token_id)
    return _open_session(ctx, staff, mfa=True)


# --- invitations and password reset ---

def invite(ctx: Ctx, admin: Staff, email_text: str, role: StaffRole, library: str | None,
           members: tuple[str, ...]) -> tuple[Staff, str]:
    """The network admin invites someone to their own collectivity; returns the invitation's token."""
    if not admin.admin:
        raise Refused(Reason.FORBIDDEN)
    email = normal_email(email_text)
    if email is None:
        raise Refused(Reason.INVALID_EMAIL)
    if library and library not in members:
        raise Refused(Reason.UNKNOWN_LIBRARY)
    staff = Staff(email=email, gln_coll=admin.gln_coll, role=role, library=library or None)
    if not store.create(staff):
        raise Refused(Reason.EMAIL_TAKEN)
    token = secrets.token_urlsafe(32)
    store.save_token(digest(token), "invite", email, ctx.now + INVITE_TTL)
    return staff, token


# The organisations that have a console: a collectivity's network (its member libraries' staff are its
# own), a distributor (offers), a reseller (its daily summary).
CONSOLE_ORGANISATIONS = (Role.COLLECTIVITY, Role.DISTRIBUTOR, Role.RESELLER)


class OwnerInvitation(Value):
    staff: Staff  # the organisation's admin, invited (they set their password and authenticator at the link)
    token: str  # the one-time invitation token (console page /console/welcome/<token>)
    organisation: Account
    again: bool  # a new link for the same admin, invited before and not yet enrolled

    def __init__(self, staff: Staff, token: str, organisation: Account, again: bool) -> None:
        self._init(staff, token, organisation, again)


def invite_owner(ctx: Ctx, gln: str, email_text: str, operator: str) -> OwnerInvitation:
    """The hub's operator gives an organisation its first console account: its admin, invited exactly as an
    admin invites staff (a one-time link good for INVITE_TTL; password, authenticator and recovery codes
    at the first visit), after which that admin invites the others. Refused when no collectivity,
    distributor or reseller has `gln`, or when it has an admin already; asked again for the same admin
    who has not enrolled yet, a new link is made (a lost email). Audited in the organisation's log."""
    org = account_store.get(gln) if gln.isascii() and gln.isdigit() and len(gln) <= 20 else None
    if org is None or org.role not in CONSOLE_ORGANISATIONS:
        raise Refused(Reason.UNKNOWN_ORGANISATION, gln=gln)
    email = normal_email(email_text)
    if email is None:
        raise Refused(Reason.INVALID_EMAIL)
    admins = [s for s in store.of_collectivity(gln) if s.admin]
    again = len(admins) == 1 and admins[0].email == email and admins[0].state is StaffState.INVITED
    if admins and not again:
        raise Refused(Reason.HAS_OWNER, gln=gln, email=admins[0].email)
    staff = admins[0] if again else Staff(email=email, gln_coll=gln, role=StaffRole.ADMIN)
    if not again and not store.create(staff):
        raise Refused(Reason.EMAIL_TAKEN)
    token = secrets.token_urlsafe(32)
    store.save_token(digest(token), "invite", email, ctx.now + INVITE_TTL)
    store.audit(gln, ctx.now, operator, "staff.invite_owner.again" if again else "staff.invite_owner", email)
    return OwnerInvitation(staff, token, org, again)


def _token(ctx: Ctx, token: str, purpose: str) -> dict[str, object]:
    item = store.get_token(digest(token)) if 0 < len(token) <= 100 else None
    if item is None or item.get("purpose") != purpose or str(item["expiresAt"]) <= ctx.now.strftime(
            "%Y-%m-%dT%H:%M:%SZ"):
        raise Refused(Reason.INVALID_LINK)
    return item


def enrolment(ctx: Ctx, token: str) -> tuple[str, str]:
    """The invited email and the TOTP secret to enrol (made once per invitation, shown until used)."""
    item = _token(ctx, token, "invite")
    secret = item.get("totpSecret")
    if not isinstance(secret, str):
        secret = new_totp_secret()
        store.update_token(digest(token), totpSecret=secret)
    return str(item["email"]), secret


def accept_invite(ctx: Ctx, token: str, password: str, code: str) -> tuple[list[str], str, Session]:
    """First sign-in: the password is set and the authenticator proven by a code. Returns the recovery
    codes (shown this once) and a signed-in session."""
    email, secret = enrolment(ctx, token)
    check_password(password, email)
    step = _totp_step(secret, code, ctx)
    if step is None:
        raise Refused(Reason.BAD_CODE)
    staff = store.get(email)
    if staff is None or staff.state is not StaffState.INVITED or store.consume_token(digest(token)) is None:
        raise Refused(Reason.INVALID_LINK)
    codes, digests = _new_recovery_codes()
    staff.state, staff.password_hash, staff.totp_secret = StaffState.ACTIVE, hash_password(password), secret
    staff.recovery, staff.last_step = digests, step
    store.save(staff)
    session_token, session = _open_session(ctx, staff, mfa=True)
    return codes, session_token, session


def request_reset(ctx: Ctx, email_text: str, address: str) -> tuple[Staff, str] | None:
    """A reset token for an active staff member (None otherwise: the page says the same either way).
    Each request counts as a failure of the address (so no one floods mailboxes from one place)."""
    w = window(ctx.now)
    if throttled(0, store.failures(f"address#{address}", w)):
        raise Refused(Reason.THROTTLED, minutes=window_left(ctx.now))
    store.add_failure(f"address#{address}", w, int((ctx.now + 2 * THROTTLE_WINDOW).timestamp()))
    email = normal_email(email_text)
    staff = store.get(email) if email else None
    if staff is None or staff.state is not StaffState.ACTIVE:
        return None
    token = secrets.token_urlsafe(32)
    store.save_token(digest(token), "reset", staff.email, ctx.now + RESET_TTL)
    return staff, token


def reset_password(ctx: Ctx, token: str, password: str, code: str, address: str) -> Staff:
    """A new password, proven by the authenticator too (a mailbox alone is not enough); every session of
    the account is revoked."""
    item = _token(ctx, token, "reset")
    staff = store.get(str(item["email"]))
    if staff is None or staff.state is not StaffState.ACTIVE:
        raise Refused(Reason.INVALID_LINK)
    attempt = Attempt(staff.email, address)
    check_throttle(ctx, attempt)
    check_password(password, staff.email)
    step = _totp_step(staff.totp_secret or "", code, ctx)
    took = step is not None and store.take_step(staff.email, step)
    if not took and not store.use_recovery(staff.email, digest(code.strip().lower())):
        raise fail(ctx, attempt, Reason.BAD_CODE)
    if store.consume_token(digest(token)) is None:
        raise Refused(Reason.INVALID_LINK)
    fresh = store.get(staff.email) or staff
    fresh.password_hash, fresh.epoch = hash_password(password), fresh.epoch + 1
    store.save(fresh)
    return fresh


def set_state(admin: Staff, email: str, state: StaffState) -> Staff:
    """The network admin disables (or enables again) a staff member of their collectivity; disabling
    revokes every session."""
    if not admin.admin:
        raise Refused(Reason.FORBIDDEN)
    staff = store.get(email)
    if staff is None or staff.gln_coll != admin.gln_coll or staff.email == admin.email:
        raise Refused(Reason.NOT_FOUND)
    if staff.state is StaffState.INVITED:
        raise Refused(Reason.NOT_FOUND)
    staff.state, staff.epoch = state, staff.epoch + 1
    store.save(staff)
    return staff


def team(admin: Staff) -> list[Staff]:
    if not admin.admin:
        raise Refused(Reason.FORBIDDEN)
    return store.of_collectivity(admin.gln_coll)
