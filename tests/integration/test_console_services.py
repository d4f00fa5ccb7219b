"""The console's use cases on emulated AWS, with an injected clock: two-step sign-in, a code good once,
throttling per account and per address, session expiry and revocation, recovery codes, invitation and
password reset; tenancy (another collectivity's patrons, loans and staff are unknown); settings
(limits, API key and callback secret rotation, declared IPs); and the console function's answers
(redirects, CSRF, security headers) through the template's routes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from lending.domain.codes import Refused
from lending.domain.staff import PENDING_MFA, SESSION_IDLE, SESSION_MAX, StaffRole, StaffState
from lending.local import demo
from lending.services import api_keys, patron_loans
from lending.services import console as uses
from lending.services import staff as auth
from lending.services.context import Ctx
from lending.store import accounts
from lending.store import staff as staff_store
from tests.helpers import invoke, line, order_ok

pytestmark = pytest.mark.usefixtures("aws")

ADMIN, _, _, _, SECRET = demo.STAFF[0]
STAFF, _, _, _, STAFF_SECRET = demo.STAFF[1]
ADMIN2, _, _, _, SECRET2 = demo.STAFF[2]
T0 = datetime(2026, 11, 30, 9, 0, 7, tzinfo=UTC)


def ctx(at: datetime = T0) -> Ctx:
    return Ctx(now=at, base_url="http://hub.test")


def code(secret: str, at: datetime) -> str:
    return str(pyotp.TOTP(secret).at(at))


def signed_in(email: str = ADMIN, secret: str = SECRET, at: datetime = T0, address: str = "192.0.2.1") -> str:
    token, _ = auth.sign_in(ctx(at), email, demo.CONSOLE_PASSWORD, address)
    full, session = auth.verify_code(ctx(at), token, code(secret, at), address)
    assert session.mfa
    return full


def reason(call: object) -> str:
    with pytest.raises(Refused) as e:
        call()  # type: ignore[operator]
    return e.value.reason


def test_two_steps_a_new_token_and_a_code_good_once() -> None:
    pending, session = auth.sign_in(ctx(), ADMIN.upper() + " ", demo.CONSOLE_PASSWORD, "192.0.2.1")
    assert not session.mfa
    found = auth.session_of(ctx(), pending)
    assert found is not None and not found[1].mfa
    full, _ = auth.verify_code(ctx(), pending, code(SECRET, T0), "192.0.2.1")
    assert full != pending and auth.session_of(ctx(), pending) is None  # no session fixation
    assert auth.session_of(ctx(), full) is not None
    again, _ = auth.sign_in(ctx(), ADMIN, demo.CONSOLE_PASSWORD, "192.0.2.1")
    assert reason(lambda: auth.verify_code(ctx(), again, code(SECRET, T0), "192.0.2.1")) == "code_already_used"
    later = T0 + timedelta(seconds=30)
    assert auth.verify_code(ctx(later), again, code(SECRET, later), "192.0.2.1")[1].mfa
    assert reason(lambda: auth.sign_in(ctx(), ADMIN, "wrong password!", "192.0.2.1")) == "bad_credentials"
    assert reason(lambda: auth.sign_in(ctx(), "nobody@x.example", "whatever", "192.0.2.1")) == "bad_credentials"


def test_throttled_per_account_then_per_address_until_the_window_ends() -> None:
    for _ in range(5):
        assert reason(lambda: auth.sign_in(ctx(), ADMIN, "wrong password!", "192.0.2.7")) == "bad_credentials"
    # Right password, but the account is locked for the window, from any address.
    assert reason(lambda: auth.sign_in(ctx(), ADMIN, demo.CONSOLE_PASSWORD, "198.51.100.1")) == "throttled"
    # Another account from that address still signs in (5 failures < 20 per address)...
    assert auth.sign_in(ctx(), ADMIN2, demo.CONSOLE_PASSWORD, "192.0.2.7")
    # ... until the address has failed 20 times, whatever the accounts.
    for i in range(15):
        auth_fail = lambda i=i: auth.sign_in(ctx(), f"guess{i}@x.example", "nope nope nope", "192.0.2.7")  # noqa: E731
        assert reason(auth_fail) == "bad_credentials"
    assert reason(lambda: auth.sign_in(ctx(), ADMIN2, demo.CONSOLE_PASSWORD, "192.0.2.7")) == "throttled"
    assert auth.sign_in(ctx(), ADMIN2, demo.CONSOLE_PASSWORD, "192.0.2.8")
    later = T0 + timedelta(minutes=15)
    assert auth.sign_in(ctx(later), ADMIN, demo.CONSOLE_PASSWORD, "192.0.2.7")


def test_sessions_expire_when_idle_after_a_day_and_when_revoked() -> None:
    token = signed_in()
    assert auth.session_of(ctx(T0 + SESSION_IDLE - timedelta(minutes=1)), token) is not None  # touched
    assert auth.session_of(ctx(T0 + 2 * SESSION_IDLE - timedelta(minutes=3)), token) is not None
    assert auth.session_of(ctx(T0 + SESSION_MAX + timedelta(seconds=1)), token) is None
    pending, _ = auth.sign_in(ctx(), STAFF, demo.CONSOLE_PASSWORD, "192.0.2.1")
    assert auth.session_of(ctx(T0 + PENDING_MFA), pending) is None
    token = signed_in(at=T0 + timedelta(minutes=1))
    admin = staff_store.get(ADMIN)
    assert admin is not None
    other = signed_in(STAFF, STAFF_SECRET)
    auth.set_state(admin, STAFF, StaffState.DISABLED)  # revokes every session of theirs
    assert auth.session_of(ctx(), other) is None
    assert reason(lambda: auth.sign_in(ctx(), STAFF, demo.CONSOLE_PASSWORD, "192.0.2.1")) == "bad_credentials"
    auth.sign_out(token)
    assert auth.session_of(ctx(T0 + timedelta(minutes=1)), token) is None


def test_a_recovery_code_signs_in_once() -> None:
    email = "recovery@mediatheques-demo.example"
    admin = staff_store.get(ADMIN)
    assert admin is not None
    _, invite = auth.invite(ctx(), admin, email, StaffRole.STAFF, demo.LIBRARY, (demo.LIBRARY,))
    _, secret = auth.enrolment(ctx(), invite)
    assert reason(lambda: auth.accept_invite(ctx(), invite, "short", code(secret, T0))) == "password_too_short"
    assert reason(lambda: auth.accept_invite(ctx(), invite, "long enough password", "123")) == "bad_code"
    codes, _, session = auth.accept_invite(ctx(), invite, "long enough password", code(secret, T0))
    assert len(set(codes)) == 10 and session.mfa
    assert reason(lambda: auth.enrolment(ctx(), invite)) == "invalid_link"  # spent
    pending, _ = auth.sign_in(ctx(), email, "long enough password", "192.0.2.1")
    assert auth.verify_code(ctx(), pending, codes[3].upper(), "192.0.2.1")[1].mfa
    pending, _ = auth.sign_in(ctx(), email, "long enough password", "192.0.2.1")
    assert reason(lambda: auth.verify_code(ctx(), pending, codes[3], "192.0.2.1")) == "bad_code"


def test_invitations_stay_in_the_inviters_collectivity() -> None:
    admin, staff = staff_store.get(ADMIN), staff_store.get(STAFF)
    assert admin is not None and staff is not None
    assert reason(lambda: auth.invite(ctx(), staff, "x@y.example", StaffRole.ADMIN, None, ())) == "forbidden"
    assert reason(lambda: auth.invite(ctx(), admin, "not an email", StaffRole.STAFF, None, ())) == "invalid_email"
    assert reason(lambda: auth.invite(ctx(), admin, "x@y.example", StaffRole.STAFF, "3012345000099",
                                      (demo.LIBRARY,))) == "unknown_library"
    assert reason(lambda: auth.invite(ctx(), admin, ADMIN2, StaffRole.STAFF, None, ())) == "email_taken"
    made, _ = auth.invite(ctx(), admin, "New@Y.example", StaffRole.STAFF, None, ())
    assert (made.email, made.gln_coll, made.state) == ("new@y.example", demo.COLL, StaffState.INVITED)
    assert [s.email for s in auth.team(admin)] == sorted(["admin@mediatheques-demo.example", "new@y.example",
                                                          "staff@mediatheques-demo.example"])
    assert reason(lambda: auth.set_state(admin, ADMIN2, StaffState.DISABLED)) == "not_found"


def test_password_reset_needs_the_code_and_closes_every_session() -> None:
    token = signed_in()
    assert auth.request_reset(ctx(), "nobody@x.example", "192.0.2.1") is None
    found = auth.request_reset(ctx(), ADMIN, "192.0.2.1")
    assert found is not None
    _, reset = found
    later = T0 + timedelta(minutes=2)
    assert reason(lambda: auth.reset_password(ctx(later), reset, "a brand new password", "000000",
                                              "192.0.2.1")) == "bad_code"
    auth.reset_password(ctx(later), reset, "a brand new password", code(SECRET, later), "192.0.2.1")
    assert auth.session_of(ctx(later), token) is None
    assert reason(lambda: auth.reset_password(ctx(later), reset, "another new password", code(SECRET, later),
                                              "192.0.2.1")) == "invalid_link"
    assert reason(lambda: auth.sign_in(ctx(later), ADMIN, demo.CONSOLE_PASSWORD, "192.0.2.1")) == "bad_credentials"
    assert auth.sign_in(ctx(later), ADMIN, "a brand new password", "192.0.2.1")
    stale = auth.request_reset(ctx(later), ADMIN, "192.0.2.1")
    assert stale is not None
    expired = later + timedelta(hours=1, seconds=1)
    assert reason(lambda: auth.reset_password(ctx(expired), stale[1], "yet another password",
                                              code(SECRET, expired), "192.0.2.1")) == "invalid_link"
    # Reset requests count against their address: no flood of emails from one place.
    for _ in range(20):
        auth.request_reset(ctx(later), "nobody@x.example", "198.51.100.9")
    assert reason(lambda: auth.request_reset(ctx(later), ADMIN, "198.51.100.9")) == "throttled"


def test_a_patron_known_only_through_a_hold_is_found_and_shown() -> None:
    """A patron who waits for a title (every copy out) has no loan and no patron record yet: the search
    finds them all the same, and their record shows the hold (another collectivity's staff still see nobody)."""
    from tests.v1_helpers import KEY

    one = "9791000000022"  # one download place
    order_ok(line(one))
    assert invoke("POST", f"/v1/media/{one}/loans.json", {"member_id": "first-reader"}, KEY)[0] == 201
    assert invoke("POST", f"/v1/media/{one}/holds.json", {"member_id": "waits-only"}, KEY)[0] == 201
    mine, theirs = staff_store.get(ADMIN), staff_store.get(ADMIN2)
    assert mine is not None and theirs is not None
    assert uses.find_patron(mine, " waits-only ") == "waits-only"
    record = uses.patron(ctx(datetime.now(UTC)), mine, "waits-only")
    assert record.active == [] and record.history == []
    assert [(v.hold.member_id, v.hold.ean13, v.hold.state.value) for v in record.holds] == [
        ("waits-only", one, "WAITING")]
    assert uses.find_patron(theirs, "waits-only") is None
    assert reason(lambda: uses.patron(ctx(datetime.now(UTC)), theirs, "waits-only")) == "not_found"
    assert uses.find_patron(mine, "never-seen") is None
    assert reason(lambda: uses.patron(ctx(datetime.now(UTC)), mine, "never-seen")) == "not_found"


def test_another_collectivity_is_unknown_to_every_use_case() -> None:
    order_ok(line("9791000000015"))
    now = datetime.now(UTC)
    coll = accounts.get(demo.COLL)
    assert coll is not None
    loan, _ = patron_loans.create(Ctx(now=now), coll, patron_loans.NewLoan("jsmith", "9791000000015",
                                                                           email="j.smith@mail.example"))
    mine, theirs = staff_store.get(ADMIN), staff_store.get(ADMIN2)
    assert mine is not None and theirs is not None
    assert uses.find_patron(mine, "jsmith") == "jsmith"
    assert uses.find_patron(mine, " J.Smith@Mail.example ") == "jsmith"
    assert uses.find_patron(theirs, "jsmith") is None and uses.find_patron(theirs, "j.smith@mail.example") is None
    assert reason(lambda: uses.patron(Ctx(now=now), theirs, "jsmith")) == "not_found"
    assert reason(lambda: uses.return_loan(Ctx(now=now), theirs, "jsmith", loan.loan_id)) == "loan_not_found"
    assert reason(lambda: uses.grant_courtesy(Ctx(now=now), theirs, "jsmith")) == "not_found"
    assert reason(lambda: uses.regenerate_patron_api_key(Ctx(now=now), theirs, "jsmith")) == "not_found"
    # The right patron, but not this loan's: refused too.
    assert reason(lambda: uses.return_loan(Ctx(now=now), mine, "someone-else", loan.loan_id)) == "not_found"
    record = uses.patron(Ctx(now=now), mine, "jsmith")
    assert [v.loan.loan_id for v in record.active] == [loan.loan_id]
    assert uses.return_loan(Ctx(now=now), mine, "jsmith", loan.loan_id).loan.state.value == "RETURNED"
    assert reason(lambda: uses.return_loan(Ctx(now=now), mine, "jsmith", loan.loan_id)) == "loan_returned"
    (entry,) = [e for e in uses.audit_log(mine) if e.action == "loan.return"]
    assert (entry.actor, entry.target, entry.detail) == (ADMIN, "jsmith", f"{loan.loan_id} 9791000000015")
    assert uses.audit_log(theirs) == []
    key = uses.patron_api_key(mine, "jsmith")
    assert uses.patron_api_key(theirs, "jsmith") != key  # derived per collectivity
    assert uses.regenerate_patron_api_key(Ctx(now=now), mine, "jsmith") != key


def test_settings_are_the_network_admins_and_take_effect() -> None:
    admin, staff = staff_store.get(ADMIN), staff_store.get(STAFF)
    assert admin is not None and staff is not None
    for call in (lambda: uses.settings(staff), lambda: uses.rotate_api_key(ctx(), staff),
                 lambda: uses.set_limits(ctx(), staff, {}), lambda: uses.audit_log(staff)):
        assert reason(call) == "forbidden"
    assert reason(lambda: uses.set_limits(ctx(), admin, {"maxActiveLoans": "-1", "defaultLoanDays": "21"})) \
        == "invalid_limit"
    assert reason(lambda: uses.set_limits(ctx(), admin, {"defaultLoanDays": "400"})) == "invalid_limit"
    uses.set_limits(ctx(), admin, {"maxActiveLoans": "2", "maxLoansPerDay": "", "maxLoansPerMonth": "9",
                                   "defaultLoanDays": "14"})
    assert uses.settings(admin).limits == {"maxActiveLoans": 2, "maxLoansPerDay": None, "maxLoansPerMonth": 9,
                                           "defaultLoanDays": 14}
    assert api_keys.library(demo.COLL_API_KEY) is not None
    new_key = uses.rotate_api_key(ctx(), admin)
    assert api_keys.library(demo.COLL_API_KEY) is None
    found = api_keys.library(new_key)
    assert found is not None and found.gln == demo.COLL and found.settings["maxActiveLoans"] == 2
    secret = uses.rotate_callback_secret(ctx(), admin)
    assert accounts.get(demo.COLL).callback_secret == secret  # type: ignore[union-attr]
    assert uses.declare_ips(ctx(), admin, ["192.0.2.0,192.0.2.9", ""]) == []
    assert uses.declare_ips(ctx(), admin, ["192.0.2.3"]) == ["192.0.2.3"]
    assert reason(lambda: uses.declare_ips(ctx(), admin, ["192.0.2.300"])) == "invalid_ip_range"
    assert uses.settings(admin).ips == ["192.0.2.0,192.0.2.9", "192.0.2.3"]  # kept, as declareIp does


def test_the_console_function_redirects_refuses_forged_forms_and_sets_its_headers() -> None:
    status, _ = invoke("GET", "/console/dashboard")
    assert status == 303
    status, body = invoke("GET", "/console/sign-in", headers={"accept-language": "fr-CA,fr;q=0.9,en;q=0.5"})
    assert status == 200 and '<html lang="fr">' in body and "Se connecter" in body
    status, body = invoke("POST", "/console/sign-in", "email=a%40b.example&password=x",
                          {"content-type": "application/x-www-form-urlencoded"})
    assert status == 403 and "did not come from the console" in body
    status, body = invoke("POST", "/console/sign-in", "csrf=abc&email=a%40b.example&password=x",
                          {"content-type": "application/x-www-form-urlencoded", "cookie": "lh_pre=abc",
                           "origin": "https://evil.example"})
    assert status == 403
    status, body = invoke("POST", "/console/sign-in", "csrf=abc&email=a%40b.example&password=x",
                          {"content-type": "application/x-www-form-urlencoded", "cookie": "lh_pre=abc",
                           "origin": "http://hub.test"})
    assert status == 401 and "Wrong email or password." in body
    status, body = invoke("GET", "/console/sign-in?x=<script>", headers={"accept-language": "en"})
    assert "<script>" not in body
    status, body = invoke("GET", "/console/nothing-here")
    assert status == 404


def test_console_headers_and_cookies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deployed (no PUBLIC_BASE_URL, reached over HTTPS): `__Host-` cookies, Secure."""
    monkeypatch.setenv("PUBLIC_BASE_URL", "")
    from lending.local import functions, template
    from lending.local.gateway import Gateway, build_event

    fns = template.functions(template.load())
    gw = Gateway.__new__(Gateway)
    gw.routes = [r for f in fns.values() for r in f.routes]
    route, params, _ = gw.match("GET", "/console/sign-in")
    assert route is not None and route.function == "ConsoleFunction"
    event = build_event("GET", "/console/sign-in", "", {"host": "hub.test", "x-forwarded-proto": "https"}, b"",
                        route, params, "192.0.2.1")
    result = functions.invoke(fns["ConsoleFunction"], event)
    headers = result["headers"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"] and headers["Cache-Control"] == "no-store"
    (cookie,) = result["cookies"]
    assert cookie.startswith("__Host-lh_pre=") and {"HttpOnly", "Secure", "SameSite=Lax", "Path=/"} <= set(
        cookie.split("; "))
