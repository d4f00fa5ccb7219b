"""The console's sign-in rules, pure: sign-in names, passwords, throttle windows, session lifetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lending.console.i18n import MESSAGES, pick
from lending.domain.codes import Refused
from lending.domain.staff import (
    PENDING_MFA,
    SESSION_IDLE,
    SESSION_MAX,
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

T0 = datetime(2026, 11, 30, 9, 0, 0, tzinfo=UTC)


def test_sign_in_names_are_emails_without_case_or_blanks() -> None:
    assert normal_email("  Ana.Lopez@Ville.EXAMPLE ") == "ana.lopez@ville.example"
    for bad in ("", "ana", "ana@", "@x.example", "a b@x.example", "a@x", None, 42, "a@" + "x" * 300 + ".fr"):
        assert normal_email(bad) is None


@pytest.mark.parametrize(("password", "reason"), [
    ("short pass", "password_too_short"), ("x" * 201, "password_too_long"),
    ("Ana.Lopez@ville.example", "password_is_email")])
def test_weak_passwords_are_refused(password: str, reason: str) -> None:
    with pytest.raises(Refused) as e:
        check_password(password, "ana.lopez@ville.example")
    assert e.value.reason == reason
    check_password("twelve chars", "ana.lopez@ville.example")


def test_throttle_windows_are_fixed_quarters_of_an_hour() -> None:
    assert window(T0) == window(T0 + timedelta(minutes=14, seconds=59)) != window(T0 + timedelta(minutes=15))
    assert window_left(T0) == 15 and window_left(T0 + timedelta(minutes=14, seconds=30)) == 1
    assert not throttled(4, 19) and throttled(5, 0) and throttled(0, 20)


def staff(**kw: object) -> Staff:
    fields: dict[str, object] = {"email": "a@x.example", "gln_coll": "3012345000031", "role": StaffRole.STAFF,
                                 "state": StaffState.ACTIVE, **kw}
    return Staff(**fields)  # type: ignore[arg-type]


def session(mfa: bool = True, epoch: int = 0, seen: datetime = T0) -> Session:
    return Session("id", "a@x.example", "3012345000031", T0, seen, "csrf", mfa, epoch)


def test_sessions_end_when_idle_at_the_end_of_the_day_or_when_revoked() -> None:
    s = staff()
    assert session().alive(T0 + SESSION_IDLE - timedelta(seconds=1), s)
    assert not session().alive(T0 + SESSION_IDLE, s)
    late = T0 + SESSION_MAX - timedelta(minutes=1)
    assert session(seen=late).alive(late, s) and not session(seen=late).alive(T0 + SESSION_MAX, s)
    assert session(mfa=False).alive(T0 + PENDING_MFA - timedelta(seconds=1), s)
    assert not session(mfa=False).alive(T0 + PENDING_MFA, s)
    assert not session(epoch=0).alive(T0, staff(epoch=1))  # password reset, disabled: every session ends
    assert not session().alive(T0, staff(state=StaffState.DISABLED)) and not session().alive(T0, None)
    assert not session().alive(T0, staff(gln_coll="3012345000055"))


def test_language_from_the_cookie_then_the_browser() -> None:
    assert pick(None, "fr-CA,fr;q=0.9,en;q=0.8") == "fr"
    assert pick(None, "de-DE,en;q=0.5,fr;q=0.7") == "fr"
    assert pick(None, "de-DE") == pick(None, None) == pick(None, "fr;q=bad") == "en"
    assert pick("en", "fr") == "en" and pick("xx", "fr") == "fr"
    assert all(len(pair) == 2 and all(pair) for pair in MESSAGES.values())


def test_every_refusal_of_the_console_has_its_words_in_both_languages() -> None:
    """Each reason the console's use cases raise (and the v1 return's) is in the console's one table of
    words; a status other than 400 is in its one table of statuses."""
    import re
    from pathlib import Path

    from lending.console.app import STATUS

    root = Path(__file__).resolve().parents[2] / "layers/common/python/lending"
    sources = [root / "services/staff.py", root / "services/console.py", root / "domain/staff.py"]
    from lending.domain.refusals import Reason

    reasons = {Reason[m].value for p in sources for m in re.findall(r"Reason\.([A-Z_]+)", p.read_text())}
    reasons |= {"bad_credentials", "code_already_used", "loan_returned", "loan_expired", "loan_not_found",
                "already_ended", "csrf"}
    assert len(reasons) > 20
    assert sorted(r for r in reasons if r not in MESSAGES) == []
    assert {r.value for r in STATUS} <= set(MESSAGES)
