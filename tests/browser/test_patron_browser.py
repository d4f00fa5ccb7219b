"""The patron space in a real headless Chromium against the local stack: a patron signs in with their
library, identifier and API key, sees their loans, reads a streaming loan in the epub.js reader and
turns its pages, returns it (the place is freed, as PNB getLoanStatus shows; the signed resource URLs
stop working); another patron cannot open that loan, tampered and expired signatures are refused, and
an on-site loan is read only from the library's declared addresses. Screenshots go to .local/screenshots/."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page, expect

from lending.domain.licences import Pool
from lending.local import demo
from lending.services import ips
from lending.services import patron_loans as v1
from lending.services.console import derive_patron_key
from lending.services.context import Ctx
from lending.services.links import sign_resource
from lending.store import accounts, licences
from lending.store import staff as staff_store
from tests.browser.test_console_browser import new_page, order, pnb, shot, v1_lend
from tests.helpers import coll_auth

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

OFFSITE_EAN, OFFSITE_TITLE = "9791000000039", "Nouvelles du quartier"
ONSITE_EAN = "9791000000053"


def api_key(member: str) -> str:
    """What the console shows the library (and the library gives the patron)."""
    return derive_patron_key(demo.COLL, member, staff_store.patron_key_generation(demo.COLL, member))


def lend(stack: Any, member: str, ean: str, pool: Pool) -> str:
    coll = accounts.get(demo.COLL)
    assert coll is not None
    loan, created = v1.create(Ctx(base_url=stack.url), coll, v1.NewLoan(member, ean, pool=pool))
    assert created
    return loan.loan_id


def sign_in(browser: Browser, base: str, member: str) -> tuple[BrowserContext, Page]:
    context, page = new_page(browser)
    page.goto(f"{base}/sign_in")
    page.get_by_label("Library").fill(demo.COLL)
    page.get_by_label("Identifier").fill(member)
    page.get_by_label("Password").fill(api_key(member))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My loans")
    return context, page


def nus2(stack: Any, order_line_id: str) -> int:
    got = pnb(stack, "getLoanStatus", {**coll_auth(), "orderLineId": [order_line_id]})
    return int(got["loanResponseLine"][0]["nus2"])  # the REST binding's bean names


def off_site_free(order_line_id: str) -> int:
    item = licences.get_line(order_line_id)
    assert item is not None
    return int(item["offFree"])


def book_text(page: Page) -> str:
    return str(page.frame_locator("#viewer iframe").locator("body").inner_text())


def reader_data(page: Page) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(page.locator("#reader-data").text_content() or "{}")
    return out


def test_a_patron_reads_online_and_returns(stack: Any, browser: Browser) -> None:
    member = f"reader-{uuid.uuid4().hex[:8]}"
    order(stack, OFFSITE_EAN, "9791000000015")
    loan_id = lend(stack, member, OFFSITE_EAN, Pool.OFFSITE)
    assert v1_lend(stack, member, "9791000000015").status_code == 201
    context, page = sign_in(browser, stack.url, member)
    try:
        expect(page.get_by_role("row", name=OFFSITE_TITLE)).to_contain_text("streaming")
        expect(page.get_by_role("button", name="Download Le Chant des rivieres")).to_be_visible()
        shot(page, "patron-my-loans")
        # Download: the v1 loan's fulfilment file.
        with page.expect_download() as got:
            page.get_by_role("button", name="Download Le Chant des rivieres").click()
        assert got.value.suggested_filename == "9791000000015.epub"
        # Read online: the reader shows the book, and its pages turn.
        page.get_by_role("link", name=f"Read {OFFSITE_TITLE} online").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(OFFSITE_TITLE)
        expect(page.frame_locator("#viewer iframe").locator("h1")).to_have_text(OFFSITE_TITLE)
        expect(page.locator("#viewer iframe")).to_have_attribute("title", "Book pages")
        first = book_text(page)
        page.get_by_role("button", name="Next page").click()
        expect(page.frame_locator("#viewer iframe").locator("h2")).to_have_text("Chapitre 2")
        assert book_text(page) != first
        shot(page, "patron-reader")
        page.keyboard.press("ArrowRight")
        expect(page.frame_locator("#viewer iframe").locator("h2")).to_have_text("Chapitre 3")
        page.get_by_role("button", name="Previous page").click()
        expect(page.frame_locator("#viewer iframe").locator("h2")).to_have_text("Chapitre 2")
        data = reader_data(page)
        assert "OEBPS/text.xhtml" in data["signed"]  # resource by resource, never the EPUB whole
        text_url = data["base"] + "OEBPS/text.xhtml?" + data["signed"]["OEBPS/text.xhtml"]
        assert requests.get(text_url, timeout=10).status_code == 200
        # Return it: the place is freed.
        from lending.store import loans as loan_store

        line_id = loan_store.get(demo.COLL, loan_id).order_line_id  # type: ignore[union-attr]
        free = nus2(stack, line_id)
        off_free = off_site_free(line_id)
        page.get_by_role("link", name="Back to my loans").click()
        page.get_by_role("button", name=f"Return the loan of {OFFSITE_TITLE}").click()
        expect(page.get_by_role("status")).to_have_text("The loan was returned: its place is free again.")
        expect(page.get_by_role("row", name=OFFSITE_TITLE)).to_have_count(0)
        assert off_site_free(line_id) == off_free + 1  # the line's own counter
        # PNB's NUS2 shows it too, unless this loan took the line's last access (the loan comes from the
        # licence ending soonest, which earlier tests of the session may have nearly spent): NUS2 is 0 then
        spent = int((licences.get_line(line_id) or {})["nta"]) <= 0
        assert nus2(stack, line_id) == (0 if spent else free + 1)
        ended = pnb(stack, "getEndedLoans", {**coll_auth(), "loanId": [loan_id]})
        assert [x["loanId"] for x in ended["loanEndedResponseLine"]] == [loan_id]
        # The loan's end closes the reader: its signed URLs are gone, the page is refused.
        assert requests.get(text_url, timeout=10).status_code == 410
        page.goto(f"{stack.url}/patron/loans/{loan_id}/read")
        expect(page.get_by_role("alert")).to_have_text("This loan had already ended.")
        page.get_by_role("link", name="My history").click()
        expect(page.get_by_role("row", name=OFFSITE_TITLE)).to_contain_text("returned")
        shot(page, "patron-history")
    finally:
        context.close()


def test_another_patron_and_forged_links_are_refused(stack: Any, browser: Browser) -> None:
    owner, other = f"reader-{uuid.uuid4().hex[:8]}", f"reader-{uuid.uuid4().hex[:8]}"
    order(stack, OFFSITE_EAN, "9791000000015")
    loan_id = lend(stack, owner, OFFSITE_EAN, Pool.OFFSITE)
    assert v1_lend(stack, other, "9791000000015").status_code == 201
    context, page = sign_in(browser, stack.url, other)
    try:
        for action in ("read",):
            got = page.goto(f"{stack.url}/patron/loans/{loan_id}/{action}")
            assert got is not None and got.status == 404
        # A forged return of someone else's loan (with this patron's own CSRF token) changes nothing.
        csrf = page.locator("input[name=csrf]").first.get_attribute("value")
        forged = page.request.post(f"{stack.url}/patron/loans/{loan_id}/return", form={"csrf": csrf or ""},
                                   headers={"Origin": stack.url}, max_redirects=0)
        assert forged.status == 404
        # Wrong password.
        context2, page2 = new_page(browser)
        page2.goto(f"{stack.url}/sign_in")
        page2.get_by_label("Library").fill(demo.COLL)
        page2.get_by_label("Identifier").fill(owner)
        page2.get_by_label("Password").fill(api_key(other))
        page2.get_by_role("button", name="Sign in").click()
        expect(page2.get_by_role("alert")).to_have_text("Wrong library, identifier or password.")
        context2.close()
    finally:
        context.close()
    # Signed URLs: the owner's genuine one opens; tampered, moved to another path or expired, refused.
    base = f"{stack.url}/patron/read/{demo.COLL}/{loan_id}/"
    good = sign_resource(demo.COLL, loan_id, "OEBPS/text.xhtml", datetime.now(UTC) + timedelta(minutes=5))
    assert requests.get(base + "OEBPS/text.xhtml?" + good, timeout=10).status_code == 200
    tampered = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    assert requests.get(base + "OEBPS/text.xhtml?" + tampered, timeout=10).status_code == 403
    assert requests.get(base + "OEBPS/chapter2.xhtml?" + good, timeout=10).status_code == 403
    expired = sign_resource(demo.COLL, loan_id, "OEBPS/text.xhtml", datetime.now(UTC) - timedelta(seconds=1))
    assert requests.get(base + "OEBPS/text.xhtml?" + expired, timeout=10).status_code == 403
    assert requests.get(base + "OEBPS/text.xhtml", timeout=10).status_code == 403


def test_an_on_site_loan_reads_only_from_the_library(stack: Any, browser: Browser) -> None:
    member = f"reader-{uuid.uuid4().hex[:8]}"
    order(stack, ONSITE_EAN)
    loan_id = lend(stack, member, ONSITE_EAN, Pool.ONSITE)
    context, page = sign_in(browser, stack.url, member)
    try:
        got = page.goto(f"{stack.url}/patron/loans/{loan_id}/read")
        assert got is not None and got.status == 403
        expect(page.get_by_role("alert")).to_have_text(
            "This book can be read on the library's premises only (its network).")
        shot(page, "patron-on-site-refused")
        url = f"{stack.url}/patron/read/{demo.COLL}/{loan_id}/OEBPS/text.xhtml?" + sign_resource(
            demo.COLL, loan_id, "OEBPS/text.xhtml", datetime.now(UTC) + timedelta(minutes=5))
        assert requests.get(url, timeout=10).status_code == 403
        # Once the library declares the address (this browser's), the same loan opens.
        ips.declare(accounts.get(demo.COLL), ips.DeclareIps(["127.0.0.1"]))  # type: ignore[arg-type]
        page.goto(f"{stack.url}/patron/loans/{loan_id}/read")
        expect(page.frame_locator("#viewer iframe").locator("h1")).to_have_text("Atlas des bibliotheques")
        assert requests.get(url, timeout=10).status_code == 200
    finally:
        context.close()
