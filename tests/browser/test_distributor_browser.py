"""The distributor's console in headless Chromium against the local stack: a distributor signs in
(password + TOTP), creates an offer with its licence terms (it reaches the getOffers update files through
the ONIX path), uploads its EPUB; a reseller orders it through PNB sendOrder over HTTP; the library lends
it with loanBook; the offer's sales points page (and the JSON endpoint) show the sale and the loan."""

from __future__ import annotations

import ftplib
import io
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pyotp
import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page, expect

from lending.catalogue import onix
from lending.domain.identifiers import gs1_check_digit
from lending.local import demo, epubs
from tests.browser.test_console_browser import ADMIN, ADMIN_SECRET, new_page, shot, unused_code
from tests.helpers import iso, loan_body, order_body

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

DIST_ADMIN, DIST_SECRET = demo.STAFF[3][0], str(demo.STAFF[3][4])
DIST2_ADMIN, DIST2_SECRET = demo.STAFF[4][0], str(demo.STAFF[4][4])


def new_ean() -> str:
    body = "979" + "".join(random.choice("0123456789") for _ in range(9))
    return body + gs1_check_digit(body)


def sign_in(browser: Browser, base: str, email: str, secret: str, landing: str) -> tuple[BrowserContext, Page]:
    context, page = new_page(browser)
    page.goto(f"{base}/console")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(demo.CONSOLE_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("6-digit code").fill(unused_code(email, secret))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(landing)
    return context, page


@pytest.fixture(scope="module")
def dist(stack: Any, browser: Browser) -> Iterator[Page]:
    context, page = sign_in(browser, stack.url, DIST_ADMIN, DIST_SECRET, "Offers")
    yield page
    context.close()


def pnb(stack: Any, service: str, body: dict[str, Any]) -> dict[str, Any]:
    r = requests.post(f"{stack.url}/v2/pnb-numerique/{service}", json=body, timeout=30)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def fill_offer(page: Page, **fields: str) -> None:
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)


def update_files_text(stack: Any, since: datetime) -> str:
    """Every getOffersForDistributor update file published since `since`, as the reseller reads them."""
    got = pnb(stack, "getOffersForDistributor", {
        "glnReseller": demo.RESELLER, "passwordReseller": demo.RESELLER_PASSWORD, "glnDistributor": demo.DISTRIBUTOR,
        "sinceDate": iso(since)})
    assert got["returnStatus"] == "OK", got
    return "".join(requests.get(f["httpLinks"], timeout=30).text for f in got.get("onixFileUrl", []))


def ftp_catalogue_update(stack: Any, ean: str) -> Any:
    """The offer as the distributor's FTP catalogue folder has it now: the files job runs, then a reseller
    logs in over FTP (ftplib, passive) and reads /HUB/ONIX/<distributor>/."""
    stack.run_schedule("FtpFilesFunction")
    ftp = ftplib.FTP()
    ftp.connect("127.0.0.1", stack.ftp.port, timeout=10)
    try:
        ftp.login(demo.RESELLER, demo.RESELLER_PASSWORD)
        ftp.set_pasv(True)
        ftp.cwd(f"/HUB/ONIX/{demo.DISTRIBUTOR}")
        found: dict[str, Any] = {}
        # the newest full, then the updates in name (time) order: the catalogue of now, as a reseller reads it
        for name in [max(ftp.nlst("full_onix*")), *sorted(ftp.nlst("diffusion_onix*"))]:
            buf = io.BytesIO()
            ftp.retrbinary(f"RETR {name}", buf.write)
            found.update((n.ean13, n) for n in onix.read(io.BytesIO(buf.getvalue()), demo.DISTRIBUTOR)
                         if isinstance(n, onix.Offer))
    finally:
        ftp.close()
    return found[ean]


def test_offer_created_ordered_lent_and_its_sales_points(stack: Any, dist: Page, tmp_path: Any) -> None:
    ean = new_ean()
    started = datetime.now(UTC) - timedelta(seconds=5)
    dist.get_by_role("link", name="New offer").click()
    expect(dist.get_by_role("heading", level=1)).to_have_text("New offer")
    bad = ean[:-1] + str((int(ean[-1]) + 1) % 10)
    fill_offer(dist, **{"EAN-13": bad, "Title": "Manuel du colporteur", "Price to libraries, tax included": "19.99"})
    dist.get_by_role("button", name="Publish the offer").click()
    expect(dist.get_by_role("alert")).to_contain_text("not valid")  # the check digit

    fill_offer(dist, **{"EAN-13": ean, "Loans in all (per licence)": "5", "Simultaneous downloads": "2",
                        "Off-site streams": "1", "Licence days": "365", "Maximum loan days": "14"})
    dist.get_by_label("Loans per licence").check()
    shot(dist, "distributor-new-offer")
    dist.get_by_role("button", name="Publish the offer").click()
    expect(dist.get_by_role("status")).to_contain_text("The offer is published")
    expect(dist.locator("#ean13")).to_have_text(ean)

    # the offer went the ONIX way: it is in the update files getOffersForDistributor answers
    text = update_files_text(stack, started)
    assert ean in text and "Manuel du colporteur" in text
    # and in the FTP files: the distributor's catalogue folder, with its licence terms
    in_ftp = ftp_catalogue_update(stack, ean)
    assert (in_ftp.title, in_ftp.terms.loans, in_ftp.terms.downloads, in_ftp.terms.max_loan_days) == \
        ("Manuel du colporteur", 5, 2, 14)

    # its EPUB, uploaded from the browser, is what the hub serves
    book = tmp_path / "book.epub"
    book.write_bytes(epubs.build(ean, "Manuel du colporteur"))
    dist.locator("input#epub").set_input_files(str(book))
    dist.get_by_role("button", name="Upload").click()
    expect(dist.get_by_role("status")).to_have_text("The EPUB is stored.")
    expect(dist.locator("#epub-state")).to_have_text("An EPUB is stored for this offer.")
    not_epub = tmp_path / "notes.epub"
    not_epub.write_bytes(b"PK\x03\x04 not really a zip")
    dist.locator("input#epub").set_input_files(str(not_epub))
    dist.get_by_role("button", name="Upload").click()
    expect(dist.get_by_role("alert")).to_have_text("This file is not an EPUB.")

    # a reseller orders it through PNB, over HTTP, at the offer's price
    order = order_body({"ean13": ean, "glnDistributor": demo.DISTRIBUTOR, "unitPrice": 1999,
                        "unitPriceExcludingTax": 1895, "currency": "EUR", "quantity": 1,
                        "dmdDate": iso(datetime.now(UTC) - timedelta(minutes=1))})
    got = pnb(stack, "sendOrder", order)
    assert got["returnStatus"] == "OK", got
    line_id = got["orderResponseLine"][0]["orderLineId"]
    # the library lends it
    lent = pnb(stack, "loanBook", loan_body(line_id, f"L{uuid.uuid4().hex[:12]}", ean13=ean, days=7))
    assert lent["returnStatus"] == "OK", lent

    dist.goto(f"{stack.url}/console/offers/{ean}/sales")
    expect(dist.get_by_role("heading", level=1)).to_have_text("Sales points: Manuel du colporteur")
    row = dist.locator("#sales tbody tr")
    expect(row).to_have_count(1)
    expect(row.get_by_role("rowheader")).to_contain_text("Librairie Demo")
    expect(row).to_contain_text("Reseau des mediatheques Demo")
    expect(row.locator(".used")).to_have_text("1")
    expect(row.locator(".left")).to_have_text("4 / 5")
    expect(row.locator(".active")).to_have_text("1")
    shot(dist, "distributor-sales-points")

    # the same figures as JSON, for the distributor only
    url = f"{stack.url}/distributor/sales/{ean}"
    r = requests.get(url, auth=(demo.DISTRIBUTOR, demo.DISTRIBUTOR_PASSWORD), timeout=30)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["licences"], body["loansUsed"], body["loansLeft"]) == (1, 1, 4)
    point = body["salesPoints"][0]
    assert (point["glnReseller"], point["glnColl"], point["activeLoans"]) == (demo.RESELLER, demo.COLL, 1)
    pnb_style = requests.post(url, json={"glnDistributor": demo.DISTRIBUTOR,
                                         "passwordDistributor": demo.DISTRIBUTOR_PASSWORD}, timeout=30)
    assert pnb_style.json() == body
    assert requests.get(url, timeout=30).status_code == 401
    assert requests.get(url, auth=(demo.DISTRIBUTOR, "wrong"), timeout=30).status_code == 401
    assert requests.get(url, auth=(demo.DISTRIBUTOR2, demo.DISTRIBUTOR2_PASSWORD), timeout=30).status_code == 404
    assert requests.get(url, auth=(demo.COLL, demo.COLL_PASSWORD), timeout=30).status_code == 403

    # an edit goes the same way: a new update file carries the new title and terms
    edited = datetime.now(UTC) - timedelta(seconds=1)
    dist.goto(f"{stack.url}/console/offers/{ean}")
    dist.get_by_label("Title", exact=True).fill("Manuel du colporteur, 2e édition")
    dist.get_by_label("Perpetual within limits").check()
    dist.get_by_role("button", name="Publish the offer").click()
    expect(dist.get_by_role("status")).to_contain_text("The offer is published")
    assert "Manuel du colporteur, 2e édition" in update_files_text(stack, edited)
    assert ftp_catalogue_update(stack, ean).title == "Manuel du colporteur, 2e édition"
    dist.goto(f"{stack.url}/console/offers")
    expect(dist.get_by_role("row", name=f"Manuel du colporteur, 2e édition {ean}")).to_contain_text(
        "Perpetual within limits")
    # the licence already sold keeps its terms
    assert requests.get(url, auth=(demo.DISTRIBUTOR, demo.DISTRIBUTOR_PASSWORD), timeout=30).json()["loansLeft"] == 4

    # today's summary (the daily email's figures) shows the offer published, the order and the loan
    today = datetime.now(ZoneInfo("Europe/Paris")).date().isoformat()
    dist.get_by_role("link", name="Daily summary").click()
    dist.get_by_label("Day").fill(today)
    dist.get_by_role("button", name="Show").click()
    table = dist.locator("#summary")
    assert int(table.locator("td.orders").inner_text()) >= 1
    assert int(table.locator("td.loans").inner_text()) >= 1
    assert int(table.locator("td.offers_published").inner_text()) >= 1
    expect(dist.get_by_text(ean, exact=False).first).to_be_visible()
    dist.get_by_label("Time zone (IANA name)").fill("Mars/Olympus")
    dist.get_by_role("button", name="Save").click()
    expect(dist.get_by_role("alert")).to_contain_text("Unknown time zone: Mars/Olympus")
    dist.goto(f"{stack.url}/console/summary")
    dist.get_by_label("Email", exact=True).fill("exports@diffuseur-demo.example")
    dist.get_by_label("Time zone (IANA name)").fill("America/Montreal")
    dist.get_by_role("button", name="Save").click()
    expect(dist.get_by_role("status")).to_have_text("Saved.")
    expect(dist.get_by_label("Time zone (IANA name)")).to_have_value("America/Montreal")
    shot(dist, "distributor-summary")


def test_tenancy_between_distributors_and_libraries(stack: Any, browser: Browser, dist: Page) -> None:
    ean = "9791000000053"  # the second distributor's
    for path in (ean, f"{ean}/sales"):
        r = dist.goto(f"{stack.url}/console/offers/{path}")
        assert r is not None and r.status == 404
        expect(dist.get_by_role("alert")).to_have_text("Not found.")
    r = dist.goto(f"{stack.url}/console/patrons")
    assert r is not None and r.status == 403
    expect(dist.get_by_role("alert")).to_contain_text("another console")
    context, library = sign_in(browser, stack.url, ADMIN, ADMIN_SECRET, "Dashboard")
    try:
        r = library.goto(f"{stack.url}/console/offers")
        assert r is not None and r.status == 403
        expect(library.get_by_role("alert")).to_contain_text("another console")
        # the collectivity's own daily summary (its network admin's): today's loans of the first test
        today = datetime.now(ZoneInfo("Europe/Paris")).date().isoformat()
        library.goto(f"{stack.url}/console/summary?day={today}")
        assert int(library.locator("#summary td.loans").inner_text()) >= 1
        expect(library.locator("#summary td.offers_published")).to_have_text("0")
    finally:
        context.close()
    context, dist2 = sign_in(browser, stack.url, DIST2_ADMIN, DIST2_SECRET, "Offers")
    try:
        expect(dist2.get_by_role("link", name="Atlas des bibliotheques")).to_be_visible()
        expect(dist2.get_by_role("link", name="Le Chant des rivieres")).to_have_count(0)
    finally:
        context.close()


def test_a_reseller_manages_its_daily_summary(stack: Any, browser: Browser) -> None:
    """A reseller's staff sign in to the same console (password + TOTP) and find only their daily summary;
    they subscribe in their language and time zone; the job (its clock injected: the morning in Tokyo)
    sends one email, whose signed link opens a page, without signing in, to change the zone or stop."""
    import re

    from lending import clock
    from lending.local import mail

    email, secret = demo.STAFF[5][0], str(demo.STAFF[5][4])
    context, page = sign_in(browser, stack.url, email, secret, "Daily summary")
    try:
        expect(page.get_by_role("link", name="Offers")).to_have_count(0)
        for path in ("offers", "patrons", "settings"):
            r = page.goto(f"{stack.url}/console/{path}")
            assert r is not None and r.status == 403
            expect(page.get_by_role("alert")).to_contain_text("another console")
        page.goto(f"{stack.url}/console/summary")
        address = f"ventes-{uuid.uuid4().hex[:6]}@librairie-demo.example"
        page.get_by_label("Email", exact=True).fill(address)
        page.get_by_label("Language").select_option("fr")
        page.get_by_label("Time zone (IANA name)").fill("Asia/Tokyo")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status")).to_have_text("Saved.")
    finally:
        context.close()

    before = len(mail.sent())
    morning = datetime.now(UTC).replace(hour=22, minute=5, second=0, microsecond=0)  # 07:05 in Tokyo
    with clock.frozen(morning):
        stack.run_schedule("DailySummaryFunction")
        stack.run_schedule("DailySummaryFunction")  # run twice: still one email
    mine = [m for m in mail.sent()[before:] if address in m.to]
    assert len(mine) == 1, [m.to for m in mail.sent()[before:]]
    assert mine[0].subject == f"Récapitulatif du {morning.date().isoformat()} - {demo.RESELLER}"
    link = re.search(r"/console/subscription/\S+", mine[0].body)
    assert link and "Asia/Tokyo" in mine[0].body

    context, page = new_page(browser)  # no session: the link alone
    try:
        page.goto(stack.url + link.group(0))
        expect(page.locator("#subscription-of")).to_contain_text(address)
        page.get_by_label("Time zone (IANA name)").fill("America/Montreal")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status")).to_have_text("Saved.")
        expect(page.get_by_label("Time zone (IANA name)")).to_have_value("America/Montreal")
        page.get_by_role("button", name="Stop these emails").click()
        expect(page.get_by_role("status")).to_contain_text(f"{address} will no longer receive the daily summary")
        r = page.goto(stack.url + link.group(0))  # the link ends with the subscription
        assert r is not None and r.status == 404
    finally:
        context.close()


def test_a_distributor_admin_invites_staff_who_enrol_into_the_distributor_console(
        stack: Any, browser: Browser, dist: Page) -> None:
    """The Staff page libraries have, for a distributor (the same invitation use case): no member libraries,
    the console's invitation email naming the distributor's console, CSRF-guarded, audited."""
    import re

    from lending.local import mail

    email = f"catalogue-{uuid.uuid4().hex[:6]}@diffuseur-demo.example"
    dist.get_by_role("link", name="Staff").click()
    expect(dist.get_by_role("heading", level=1)).to_have_text("Staff")
    expect(dist.get_by_label("Member library")).to_have_count(0)
    expect(dist.get_by_role("heading", name="Your organisation's team")).to_be_visible()
    expect(dist.get_by_role("row", name=re.compile(re.escape(DIST_ADMIN)))).to_contain_text("Administrator")
    forged = dist.request.post(f"{stack.url}/console/staff/invite", form={"email": email, "csrf": "forged"},
                               headers={"Origin": stack.url})
    assert forged.status == 403 and not [m for m in mail.sent() if email in m.to]
    dist.get_by_label("Email").fill(email)
    dist.get_by_role("button", name="Send the invitation").click()
    expect(dist.get_by_role("status")).to_have_text("Invitation sent.")
    expect(dist.get_by_role("row", name=re.compile(re.escape(email)))).to_contain_text("invited")
    (message,) = [m for m in mail.sent() if email in m.to]
    assert message.subject == "Your console account / Votre accès à la console"
    assert "the distributor console of Diffuseur Demo" in message.body
    link = re.search(r"http://\S+/console/welcome/\S+", message.body)
    assert link is not None
    dist.get_by_role("link", name="Audit log").click()
    expect(dist.get_by_role("row", name=re.compile(re.escape(email)))).to_contain_text("staff.invite")

    context, page = new_page(browser)
    try:
        page.goto(link.group(0))
        secret = page.locator("#totp-secret").inner_text()
        page.get_by_label("Password", exact=True).fill("a long new password 2026")
        page.get_by_label("Password again").fill("a long new password 2026")
        page.get_by_label("6-digit code").fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Activate my account").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
        page.get_by_role("link", name="Go to the dashboard").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Offers")  # the distributor's console
        expect(page.get_by_role("link", name="Staff")).to_have_count(0)  # staff, not admin: no Staff page
        for path in ("staff", "audit"):
            r = page.goto(f"{stack.url}/console/{path}")
            assert r is not None and r.status == 403
            expect(page.get_by_role("alert")).to_have_text("This page is for your organisation's administrator.")
    finally:
        context.close()


def test_a_reseller_admin_invites_staff_in_french(stack: Any, browser: Browser) -> None:
    import re

    from lending.local import mail

    email, secret = demo.STAFF[5][0], str(demo.STAFF[5][4])
    context, page = sign_in(browser, stack.url, email, secret, "Daily summary")
    try:
        page.get_by_role("link", name="Lire en français").click()
        page.get_by_role("link", name="Équipe").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Équipe")
        expect(page.get_by_role("heading", name="L'équipe de votre organisation")).to_be_visible()
        expect(page.get_by_label("Bibliothèque membre")).to_have_count(0)
        invited = f"caisse-{uuid.uuid4().hex[:6]}@librairie-demo.example"
        page.get_by_label("Adresse électronique").fill(invited)
        page.get_by_label("Rôle").select_option("admin")
        page.get_by_role("button", name="Envoyer l'invitation").click()
        expect(page.get_by_role("status")).to_have_text("Invitation envoyée.")
        row = page.get_by_role("row", name=re.compile(re.escape(invited)))
        expect(row).to_contain_text("Administrateur")
        expect(row).to_contain_text("invité")
        (message,) = [m for m in mail.sent() if invited in m.to]
        assert "la console revendeur de Librairie Demo" in message.body
        page.get_by_role("link", name="Journal d'audit").click()
        expect(page.get_by_role("row", name=re.compile(re.escape(invited)))).to_contain_text("staff.invite")
    finally:
        context.close()
