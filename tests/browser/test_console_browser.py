"""The library console in a real headless Chromium (Debian's, driven by Playwright) against the local
stack: sign-in with password and TOTP, a patron found and a loan returned from the Loans tab (place
freed as PNB getLoanStatus shows, callback received), a courtesy loan that lets v1 lend past the daily
limit, an IP range declared, another collectivity's staff kept out, a form without its CSRF token
refused, wrong codes throttled, an invitation taken up. Screenshots go to .local/screenshots/."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page, expect

from lending.local import demo, mail
from lending.local.receiver import Receiver
from lending.store import loans as loan_store
from tests.helpers import coll_auth, line, order_body

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SHOTS = Path(__file__).resolve().parents[2] / ".local" / "screenshots"
ADMIN, _, _, _, ADMIN_SECRET = demo.STAFF[0]
STAFF, _, _, _, STAFF_SECRET = demo.STAFF[1]
ADMIN2, _, _, _, ADMIN2_SECRET = demo.STAFF[2]
TIMEOUT_MS = 30_000  # a busy 2-core machine runs the stack, the emulator and Chromium at once


def new_page(browser: Browser, locale: str = "en-GB") -> tuple[BrowserContext, Page]:
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def password_step(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/console")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(demo.CONSOLE_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Authentication code")


def unused_code(email: str, secret: str) -> str:
    """A TOTP code of `email` the hub has not taken yet. A code is good once (the account keeps the last time
    step used) and the session's tests sign the demo staff in many times, in any order, sometimes twice
    within one 30-second step: the step after now (one step of drift is accepted) if it is later than the
    account's last, else the wait (at most one step, bounded) until it is."""
    from lending.store import staff as staff_store

    totp = pyotp.TOTP(secret)
    for _ in range(140):
        step = int(datetime.now(UTC).timestamp()) // totp.interval + 1
        found = staff_store.get(email)
        if found is None or found.last_step < step:
            return str(totp.at(step * totp.interval))
        time.sleep(0.25)
    raise AssertionError(f"no fresh TOTP step for {email} within 35 s")


def sign_in(browser: Browser, base: str, email: str, secret: str) -> tuple[BrowserContext, Page]:
    context, page = new_page(browser)
    password_step(page, base, email)
    page.get_by_label("6-digit code").fill(unused_code(email, secret))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    return context, page


@pytest.fixture(scope="module")
def admin(stack: Any, browser: Browser) -> Iterator[Page]:
    context, page = sign_in(browser, stack.url, ADMIN, ADMIN_SECRET)
    yield page
    context.close()


@pytest.fixture(scope="module")
def admin2(stack: Any, browser: Browser) -> Iterator[Page]:
    context, page = sign_in(browser, stack.url, ADMIN2, ADMIN2_SECRET)
    yield page
    context.close()


def pnb(stack: Any, service: str, body: dict[str, Any]) -> dict[str, Any]:
    r = requests.post(f"{stack.url}/v2/pnb-numerique/{service}", json=body, timeout=30)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def order(stack: Any, *eans: str) -> None:
    got = pnb(stack, "sendOrder", order_body(*[line(e, demo.DISTRIBUTOR2 if e == "9791000000053" else
                                                     demo.DISTRIBUTOR) for e in eans]))
    assert got["returnStatus"] == "OK", got


def v1_lend(stack: Any, member: str, ean: str, **params: Any) -> requests.Response:
    return requests.post(f"{stack.url}/v1/media/{ean}/loans.json", headers={"X-Api-Key": demo.COLL_API_KEY},
                         json={"member_id": member, **params}, timeout=30)


def nus1(stack: Any, order_line_id: str) -> int:
    got = pnb(stack, "getLoanStatus", {**coll_auth(), "orderLineId": [order_line_id]})
    return int(got["loanResponseLine"][0]["nus1"])  # the REST binding renders the counters in lower case


def open_patron(page: Page, base: str, member: str) -> None:
    page.goto(f"{base}/console/patrons")
    page.get_by_label("Patron identifier or email").fill(member)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Patron {member}")


def test_sign_in_shows_the_dashboard(stack: Any, admin: Page) -> None:
    admin.goto(f"{stack.url}/console/dashboard")
    expect(admin.get_by_role("navigation", name="Main menu").get_by_role("link", name="Dashboard")).to_have_attribute(
        "aria-current", "page")
    cookies = {c["name"]: c for c in admin.context.cookies()}
    assert cookies["lh_session"]["httpOnly"] and cookies["lh_session"]["sameSite"] == "Lax"


def test_return_the_loan_from_the_loans_tab(stack: Any, admin: Page) -> None:
    member = f"reader-{uuid.uuid4().hex[:8]}"
    order(stack, "9791000000015")
    with Receiver(secret=demo.COLL_CALLBACK_SECRET) as receiver:
        made = v1_lend(stack, member, "9791000000015", return_url=f"{receiver.url}/returns")
        assert made.status_code == 201, made.text
        loan_id = made.json()["id"]
        line_id = loan_store.get(demo.COLL, loan_id).order_line_id  # type: ignore[union-attr]
        free = nus1(stack, line_id)
        open_patron(admin, stack.url, member)
        expect(admin.get_by_role("cell", name="Le Chant des rivieres")).to_be_visible()
        shot(admin, "patron-loans")
        admin.get_by_role("button", name="Return the loan of Le Chant des rivieres").click()
        expect(admin.get_by_role("status")).to_have_text("The loan was returned: its place is free again.")
        expect(admin.get_by_text("No active loan.")).to_be_visible()
        assert nus1(stack, line_id) == free + 1
        got = receiver.wait_for(lambda rs: any(r.json().get("loanId") == loan_id for r in rs), timeout=15)
        (event,) = [r for r in got if r.json().get("loanId") == loan_id]
        assert event.signed and event.json()["memberId"] == member and event.json()["event"] == "loan.returned"
    ended = pnb(stack, "getEndedLoans", {**coll_auth(), "loanId": [loan_id]})
    assert [x["loanId"] for x in ended["loanEndedResponseLine"]] == [loan_id]
    admin.get_by_role("link", name="History").click()
    expect(admin.get_by_role("cell", name="returned")).to_be_visible()
    admin.goto(f"{stack.url}/console/audit")
    expect(admin.get_by_role("cell", name=f"{loan_id} 9791000000015")).to_be_visible()
    shot(admin, "audit")


def test_courtesy_loan_lets_v1_lend_past_the_daily_limit(stack: Any, admin: Page) -> None:
    member = f"reader-{uuid.uuid4().hex[:8]}"
    eans = ["9791000000015", "9791000000022", "9791000000039", "9791000000053"]
    order(stack, *eans)
    for ean in eans[:3]:  # the demo library's limit: 3 loans a day
        assert v1_lend(stack, member, ean).status_code == 201
    refused = v1_lend(stack, member, eans[3])
    assert (refused.status_code, refused.json()["errors"]) == (403, ["daily_loan_limit_reached"])
    open_patron(admin, stack.url, member)
    admin.get_by_role("button", name="Courtesy loan").click()
    expect(admin.get_by_role("status")).to_have_text("Courtesy loan granted.")
    expect(admin.locator("#courtesy-count")).to_have_text("1")
    assert v1_lend(stack, member, eans[3]).status_code == 201
    admin.reload()
    expect(admin.locator("#courtesy-count")).to_have_text("0")
    # The API key is shown on demand, and a new one replaces it.
    admin.get_by_role("button", name="Show the API key").click()
    first = admin.locator("#api-key").inner_text()
    admin.get_by_role("button", name="Regenerate the API key").click()
    expect(admin.get_by_role("status")).to_have_text("New API key: the previous one no longer works.")
    assert re.fullmatch(r"[0-9a-f]{32}", first) and admin.locator("#api-key").inner_text() != first
    shot(admin, "patron-courtesy")


def test_declare_an_ip_range(stack: Any, admin: Page) -> None:
    admin.goto(f"{stack.url}/console/settings")
    field = admin.get_by_label("Addresses or ranges")
    field.fill("198.51.100.10,198.51.100.40")
    admin.get_by_role("button", name="Declare").click()
    expect(admin.get_by_role("status")).to_have_text("Declared.")
    expect(admin.locator("#declared-ips")).to_contain_text("198.51.100.10,198.51.100.40")
    admin.get_by_label("Addresses or ranges").fill("198.51.100.20")
    admin.get_by_role("button", name="Declare").click()
    expect(admin.get_by_role("status")).to_have_text("Declared. Already declared: 198.51.100.20")
    admin.get_by_label("Addresses or ranges").fill("198.51.100.1,198.51.103.255")
    admin.get_by_role("button", name="Declare").click()
    expect(admin.get_by_role("alert")).to_have_text(  # over 1000 addresses: declareIp's own rule, in our words
        "A range holds at most 1000 addresses: 198.51.100.1,198.51.103.255")
    # On-site reading from the range is now allowed by PNB consultBook's rules.
    got = pnb(stack, "getOrders", {**coll_auth(), "sinceDate": "2020-01-01T00:00:00Z"})
    assert got["returnStatus"] == "OK"
    admin.goto(f"{stack.url}/console/settings")
    shot(admin, "settings")


def test_another_collectivity_cannot_reach_these_patrons(stack: Any, admin2: Page) -> None:
    member = f"reader-{uuid.uuid4().hex[:8]}"
    order(stack, "9791000000015")
    made = v1_lend(stack, member, "9791000000015")
    assert made.status_code == 201
    loan_id = made.json()["id"]
    response = admin2.goto(f"{stack.url}/console/patrons/{member}")
    assert response is not None and response.status == 404
    expect(admin2.get_by_role("alert")).to_have_text("Not found.")
    admin2.goto(f"{stack.url}/console/patrons?q={member}")
    expect(admin2.get_by_role("alert")).to_have_text("No patron with this identifier or email.")
    # Even a well-formed return, with this staff member's own CSRF token, finds nothing to return.
    admin2.goto(f"{stack.url}/console/patrons")
    token = admin2.locator("input[name=csrf]").first.get_attribute("value")
    r = admin2.request.post(f"{stack.url}/console/patrons/{member}/loans/{loan_id}/return",
                            form={"csrf": token or ""}, max_redirects=0)
    assert r.status == 404
    assert loan_store.get(demo.COLL, loan_id).state.value == "ACTIVE"  # type: ignore[union-attr]
    # Nor the network admin's pages of the other collectivity: there is only one's own.
    admin2.goto(f"{stack.url}/console/settings")
    expect(admin2.locator("#declared-ips")).to_have_count(0)


def test_rotating_the_v1_api_key_and_the_callback_secret(stack: Any, admin2: Page) -> None:
    """(The second collectivity's: the tests that use its demo key ran before the browser tests.)"""
    def v1_list(key: str) -> int:
        return requests.get(f"{stack.url}/v1/loans.json", headers={"X-Api-Key": key}, timeout=30).status_code

    assert v1_list(demo.COLL2_API_KEY) == 200
    admin2.goto(f"{stack.url}/console/settings")
    admin2.get_by_role("button", name="Rotate the v1 API key").click()
    expect(admin2.get_by_role("status")).to_contain_text("New v1 API key")
    new_key = admin2.locator("#shown-value").inner_text()
    assert v1_list(new_key) == 200 and v1_list(demo.COLL2_API_KEY) == 401
    admin2.get_by_role("button", name="Rotate the callback secret").click()
    expect(admin2.get_by_role("status")).to_contain_text("New callback secret")
    assert len(admin2.locator("#shown-value").inner_text()) >= 40
    admin2.goto(f"{stack.url}/console/settings")  # shown once
    expect(admin2.locator("#shown-value")).to_have_count(0)
    admin2.goto(f"{stack.url}/console/audit")
    expect(admin2.get_by_role("cell", name="settings.api_key")).to_be_visible()


def test_a_form_without_its_csrf_token_is_refused(stack: Any, admin: Page) -> None:
    before = admin.context.request.get(f"{stack.url}/console/settings").text()
    url = f"{stack.url}/console/settings/ips"
    for form in ({"ips": "203.0.113.5"}, {"ips": "203.0.113.5", "csrf": "forged"}):
        r = admin.request.post(url, form=form, max_redirects=0)
        assert r.status == 403 and "did not come from the console" in r.text()
    admin.goto(f"{stack.url}/console/settings")
    assert "203.0.113.5" not in admin.content() and "203.0.113.5" not in before


def test_wrong_codes_are_throttled(stack: Any, browser: Browser) -> None:
    context, page = new_page(browser)
    try:
        password_step(page, stack.url, STAFF)
        for _ in range(5):
            page.get_by_label("6-digit code").fill("000000")
            page.get_by_role("button", name="Verify").click()
            expect(page.get_by_role("alert")).to_have_text("Wrong code.")
        page.get_by_label("6-digit code").fill(pyotp.TOTP(STAFF_SECRET).now())
        page.get_by_role("button", name="Verify").click()
        expect(page.get_by_role("alert")).to_contain_text("Too many failed attempts")
        # The password step is refused as well while the window lasts.
        page.goto(f"{stack.url}/console/sign-in")
        page.get_by_label("Email").fill(STAFF)
        page.get_by_label("Password").fill(demo.CONSOLE_PASSWORD)
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("alert")).to_contain_text("Too many failed attempts")
    finally:
        context.close()


def test_french_by_browser_language_and_the_switch(stack: Any, browser: Browser) -> None:
    context, page = new_page(browser, locale="fr-FR")
    try:
        page.goto(f"{stack.url}/console/sign-in")
        expect(page.get_by_role("heading", level=1)).to_have_text("Se connecter")
        assert page.locator("html").get_attribute("lang") == "fr"
        shot(page, "sign-in-fr")
        page.get_by_role("link", name="Read in English").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard" if False else "Sign in")
        assert page.locator("html").get_attribute("lang") == "en"
    finally:
        context.close()


def test_an_invited_librarian_sets_a_password_and_enrols_totp(stack: Any, admin: Page, browser: Browser) -> None:
    email = f"new-{uuid.uuid4().hex[:6]}@mediatheques-demo.example"
    admin.goto(f"{stack.url}/console/staff")
    admin.get_by_label("Email").fill(email)
    admin.get_by_label("Member library").select_option(demo.LIBRARY)
    admin.get_by_role("button", name="Send the invitation").click()
    expect(admin.get_by_role("status")).to_have_text("Invitation sent.")
    expect(admin.get_by_role("row", name=re.compile(re.escape(email)))).to_contain_text("invited")
    shot(admin, "staff")
    (message,) = [m for m in mail.sent() if email in m.to]
    link = re.search(r"http://\S+/console/welcome/\S+", message.body)
    assert link is not None
    context, page = new_page(browser)
    try:
        page.goto(link.group(0))
        expect(page.get_by_role("heading", level=1)).to_have_text("Welcome: set up your account")
        secret = page.locator("#totp-secret").inner_text()
        expect(page.get_by_role("img", name="QR code to add the account to an authenticator app")).to_be_visible()
        shot(page, "welcome")
        page.get_by_label("Password", exact=True).fill("a long new password 2026")
        page.get_by_label("Password again").fill("a long new password 2026")
        page.get_by_label("6-digit code").fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Activate my account").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
        assert page.locator("#recovery-codes li").count() == 10
        page.get_by_role("link", name="Go to the dashboard").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
        # Staff of a member library: no network admin pages.
        response = page.goto(f"{stack.url}/console/settings")
        assert response is not None and response.status == 403
        # The invitation link is spent.
        response = page.goto(link.group(0))
        assert response is not None and response.status == 404
        # A forgotten password: a link by email, then a new password proven by the authenticator; every
        # session of the account closes.
        reset_context, reset_page = new_page(browser)
        try:
            reset_page.goto(f"{stack.url}/console/forgot")
            reset_page.get_by_label("Email").fill(email)
            reset_page.get_by_role("button", name="Send me a link").click()
            expect(reset_page.get_by_role("status")).to_contain_text("a link is on its way")
            (sent,) = [m for m in mail.sent() if email in m.to and "/console/reset/" in m.body]
            reset_link = re.search(r"http://\S+/console/reset/\S+", sent.body)
            assert reset_link is not None
            reset_page.goto(reset_link.group(0))
            reset_page.get_by_label("Password", exact=True).fill("another long password")
            reset_page.get_by_label("Password again").fill("another long password")
            next_code = pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30))  # the enrolment used now's
            reset_page.get_by_label("6-digit code").fill(next_code)
            reset_page.get_by_role("button", name="Save the password").click()
            expect(reset_page.get_by_role("status")).to_contain_text("Password changed")
        finally:
            reset_context.close()
        response = page.goto(f"{stack.url}/console/dashboard")
        assert response is not None and page.url.endswith("/console/sign-in")  # this session was closed
    finally:
        context.close()


def test_dashboard_counts_the_loans_and_works_on_a_phone(stack: Any, admin: Page, browser: Browser) -> None:
    admin.goto(f"{stack.url}/console/dashboard")
    active = int(admin.locator("#active-loans").inner_text())
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    lent_today = int(admin.get_by_role("row", name=re.compile(today)).locator(".count").inner_text())
    assert active >= 5 and lent_today >= 6  # the loans the tests above made and kept (more from others)
    shot(admin, "dashboard")
    admin.goto(f"{stack.url}/console/licences")
    expect(admin.get_by_role("table").get_by_role("rowheader", name="Atlas des bibliotheques").first).to_be_visible()
    shot(admin, "licences")
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, locale="en-GB")
    try:
        context.add_cookies(admin.context.cookies())
        phone = context.new_page()
        phone.goto(f"{stack.url}/console/dashboard")
        phone.keyboard.press("Tab")  # the first stop is the skip link
        expect(phone.get_by_role("link", name="Skip to content")).to_be_focused()
        phone.keyboard.press("Enter")
        expect(phone.locator("main")).to_be_focused()
        phone.goto(f"{stack.url}/console/patrons")
        expect(phone.get_by_role("heading", level=1)).to_have_text("Find a patron")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390  # nothing wider than the screen: no sideways scrolling
        shot(phone, "patrons-phone")
    finally:
        context.close()


def test_every_page_in_french_then_back_to_english(stack: Any, admin: Page) -> None:
    admin.goto(f"{stack.url}/console/dashboard")
    admin.get_by_role("link", name="Lire en français").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    assert admin.locator("html").get_attribute("lang") == "fr"
    for path, heading in (("licences", "Licences"), ("patrons", "Rechercher un usager"),
                          ("settings", "Paramètres"), ("staff", "Équipe"), ("audit", "Journal d'audit")):
        response = admin.goto(f"{stack.url}/console/{path}")
        assert response is not None and response.status == 200
        expect(admin.get_by_role("heading", level=1)).to_have_text(heading)
    admin.goto(f"{stack.url}/console/patrons?q={demo.COLL}-nobody")
    expect(admin.get_by_role("alert")).to_have_text("Aucun usager avec cet identifiant ou cette adresse.")
    admin.get_by_role("link", name="Read in English").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Find a patron")
