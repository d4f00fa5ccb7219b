"""Holds end to end in a real headless Chromium against the local stack: patron A borrows the last copy
from the patron space; patron B meets "All resources are currently on loan", places a hold and sees
position 1; A returns the loan from the patron space; B is emailed (the stack's SES keeps the message)
and sees "Reserved for you until ..."; B borrows within the window. Then B returns, the place is
reserved for D (who never comes), and with the clock moved past D's window (clock.frozen, no sleep) the
expiry job passes the copy to C, next in line; the console lists the holds per title and cancels C's.
Screenshots go to .local/screenshots/."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from lending import clock
from lending.domain.holds import HoldState
from lending.local import demo, mail
from lending.services import holds
from lending.services import patron_loans as v1
from lending.services.context import Ctx
from lending.store import accounts
from lending.store import holds as hold_store
from tests.browser.test_console_browser import ADMIN, ADMIN_SECRET, shot
from tests.browser.test_console_browser import sign_in as console_sign_in
from tests.browser.test_patron_browser import sign_in
from tests.e2e.test_holds_e2e import clean, close_queue, counts, drain, order

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

EAN, TITLE = "9791000000022", "Petite histoire du pret"  # one download place per licence


def enrol(member: str) -> None:
    """The library makes the patron known to the hub (a courtesy loan granted, as the console's button
    does): a patron the library never dealt with has no patron space."""
    coll = accounts.get(demo.COLL)
    assert coll is not None
    v1.grant_courtesy(coll, member)


def title_page(page: Page, base: str) -> None:
    page.goto(f"{base}/patron/loans")
    page.get_by_role("link", name="Find a book").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a book")
    page.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)


def hold_row(page: Page) -> Any:
    return page.get_by_role("row", name=re.compile(re.escape(TITLE)))


def test_the_whole_hold_flow(stack: Any, browser: Browser) -> None:
    tag = uuid.uuid4().hex[:6]
    a, b, c, d = (f"{n}-{tag}" for n in ("anna", "ben", "chloe", "dan"))
    for m in (a, b, c):
        enrol(m)
    drain(stack, EAN)
    close_queue(stack, EAN)
    lid = order(stack, EAN)  # the only free place of the title
    address = f"{b}@example.org"
    ctx_a, page_a = sign_in(browser, stack.url, a)
    ctx_b, page_b = sign_in(browser, stack.url, b)
    ctx_c, page_c = sign_in(browser, stack.url, c)
    try:
        # A borrows the last copy from the title's page.
        title_page(page_a, stack.url)
        expect(page_a.get_by_role("row", name="download")).to_contain_text("1 /")
        page_a.get_by_role("button", name="Borrow", exact=True).click()
        expect(page_a.get_by_role("status")).to_have_text("Borrowed: the book is in your loans.")
        expect(page_a.get_by_role("row", name=TITLE)).to_be_visible()
        assert counts(lid) == (0, 0)

        # B finds every copy out: the refusal offers a hold instead of a dead end.
        title_page(page_b, stack.url)
        expect(page_b.get_by_role("heading", name="Every copy is out")).to_be_visible()
        expect(page_b.get_by_role("button", name="Borrow")).to_have_count(0)
        shot(page_b, "patron-title-all-out")
        direct = page_b.request.post(f"{stack.url}/patron/titles/{EAN}/borrow", headers={"Origin": stack.url},
                                     form={"csrf": page_b.locator("input[name=csrf]").first.get_attribute("value")
                                           or ""})
        assert direct.status == 403 and "All resources are currently on loan." in direct.text()
        page_b.get_by_label("Email me when it is ready (optional)").fill(address)
        page_b.get_by_role("button", name="Place a hold").click()
        expect(page_b.get_by_role("heading", level=1)).to_have_text("My holds")
        expect(page_b.get_by_role("status")).to_have_text("Hold placed: you are in the queue.")
        expect(hold_row(page_b)).to_contain_text("Position 1 in the queue")
        expect(hold_row(page_b)).to_contain_text(re.compile(r"About \d+ days \(by \d{4}-\d\d-\d\d\)"))
        shot(page_b, "patron-my-holds")

        # D (through the library's system, v1) and then C join the queue behind B.
        r = requests.post(f"{stack.url}/v1/media/{EAN}/holds.json", headers={"X-Api-Key": demo.COLL_API_KEY},
                          json={"member_id": d}, timeout=30)
        assert r.status_code == 201, r.text
        title_page(page_c, stack.url)
        page_c.get_by_role("button", name="Place a hold").click()
        expect(hold_row(page_c)).to_contain_text("Position 3 in the queue")

        # A returns the loan from the patron space: the place is reserved for B, who is emailed.
        before = len(mail.sent())
        page_a.goto(f"{stack.url}/patron/loans")
        page_a.get_by_role("button", name=f"Return the loan of {TITLE}").click()
        expect(page_a.get_by_role("status")).to_have_text("The loan was returned: its place is free again.")
        assert counts(lid) == (0, 1)  # reserved: out of free, counted as held
        notices = [m for m in mail.sent()[before:] if address in m.to]
        assert len(notices) == 1 and notices[0].subject == f"Your hold is ready: {TITLE}"
        page_b.goto(f"{stack.url}/patron/holds")
        expect(hold_row(page_b)).to_contain_text("Reserved for you until")
        shot(page_b, "patron-hold-reserved")
        page_c.goto(f"{stack.url}/patron/holds")
        expect(hold_row(page_c)).to_contain_text("Position 2 in the queue")

        # B borrows within the window, from My holds.
        page_b.get_by_role("button", name=f"Borrow {TITLE}").click()
        expect(page_b.get_by_role("status")).to_have_text("Borrowed: the book is in your loans.")
        expect(page_b.get_by_role("row", name=TITLE)).to_be_visible()
        assert counts(lid) == (0, 0)
        page_b.get_by_role("link", name="My holds").click()
        expect(page_b.get_by_text("No hold.")).to_be_visible()

        # B returns: the place is D's, who never comes. Past D's window (the injected clock), the expiry
        # job passes the copy to C, next in line.
        page_b.goto(f"{stack.url}/patron/loans")
        page_b.get_by_role("button", name=f"Return the loan of {TITLE}").click()
        (d_hold,) = [h for h in hold_store.queue(demo.COLL, EAN)[1] if h.member_id == d]
        assert d_hold.state is HoldState.RESERVED and d_hold.expires_at is not None
        later = d_hold.expires_at + timedelta(minutes=1)
        with clock.frozen(later):
            assert holds.expire_reservations(Ctx(now=later)) >= 1
            ctx_c2, page_c2 = sign_in(browser, stack.url, c)  # C's earlier session would have lapsed by now
            try:
                page_c2.get_by_role("link", name="My holds").click()
                expect(hold_row(page_c2)).to_contain_text("Reserved for you until")
                shot(page_c2, "patron-hold-passed-on")
            finally:
                ctx_c2.close()
        assert hold_store.get(demo.COLL, d_hold.hold_id).state is HoldState.EXPIRED  # type: ignore[union-attr]
        assert counts(lid) == (0, 1)

        # The console lists the holds per title, in queue order, and cancels C's: the place is freed.
        ctx_s, staff = console_sign_in(browser, stack.url, ADMIN, ADMIN_SECRET)
        try:
            staff.get_by_role("link", name="Holds").click()
            expect(staff.get_by_role("heading", level=1)).to_have_text("Holds")
            section = staff.get_by_role("region", name=re.compile(re.escape(TITLE)))
            expect(section.get_by_role("row", name=c)).to_contain_text(re.compile(r"reserved until"))
            expect(section.get_by_role("row", name=d)).to_contain_text("window passed")
            expect(section.get_by_role("row", name=b)).to_contain_text("borrowed")
            rows = section.get_by_role("row").all_inner_texts()
            order_seen = [m for line in rows for m in (b, d, c) if line.startswith(m)]
            assert order_seen == [b, d, c]  # queue order
            shot(staff, "console-holds")
            staff.get_by_role("button", name=f"Cancel the hold of {c} on {TITLE}").click()
            expect(staff.get_by_role("status")).to_have_text("Hold cancelled.")
            expect(section.get_by_role("row", name=c)).to_contain_text("cancelled")
            assert counts(lid) == (1, 0)
            staff.get_by_role("link", name="Audit log").click()
            expect(staff.get_by_role("row", name=re.compile("hold.cancel")).first).to_contain_text(c)
            staff.get_by_role("link", name="Lire en français").click()
            staff.get_by_role("link", name="Réservations").click()
            expect(staff.get_by_role("heading", level=1)).to_have_text("Réservations")
            expect(staff.locator("html")).to_have_attribute("lang", "fr")
            staff.get_by_role("link", name="Read in English").click()
        finally:
            ctx_s.close()
        page_c.goto(f"{stack.url}/patron/holds")
        expect(page_c.get_by_text("No hold.")).to_be_visible()
        clean(lid)
    finally:
        for ctx in (ctx_a, ctx_b, ctx_c):
            ctx.close()
