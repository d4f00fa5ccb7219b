"""The distributor's pages of the console: offers (list, create, edit, EPUB upload) and the sales points
of each. Same sign-in, sessions, CSRF and rendering as the library pages (app.py); the use cases are
services/distributor.py."""

from __future__ import annotations

from typing import Any

from ..catalogue import console_offers
from ..domain.offers import LICENCE_MODELS, Offer, model_of
from ..domain.refusals import Reason, Refused
from ..services import distributor as uses
from .app import DONE, Handler, Page, not_found
from .http import Response, redirect, url

DONE.update({"offer_saved", "epub_saved"})


def _form_of(o: Offer) -> dict[str, Any]:
    t = o.terms
    return {"ean13": o.ean13, "title": o.title, "publisher": o.publisher, "availability": o.availability,
            "price": f"{o.price_ttc / 100:.2f}", "currency": o.currency, "tax_rate": o.tax_rate or 0,
            "model": model_of(t), "loans": t.loans, "downloads": t.downloads, "onsite_streams": t.onsite_streams,
            "offsite_streams": t.offsite_streams, "licence_days": t.licence_days, "max_loan_days": t.max_loan_days}


BLANK = {"ean13": "", "title": "", "publisher": "", "availability": "20", "price": "", "currency": "EUR",
         "tax_rate": 550, "model": "loans", "loans": 30, "downloads": 1, "onsite_streams": 0, "offsite_streams": 0,
         "licence_days": 3650, "max_loan_days": 21}


def _offer_page(page: Page, f: dict[str, Any], creating: bool, status: int = 200, **values: Any) -> Response:
    action = url("offers", "new") if creating else url("offers", str(f["ean13"]))
    heading = page.t("new_offer") if creating else f"{page.t('edit_offer')}: {f['title']}"
    done = page.req.query.get("done")
    if "notice" not in values and done in DONE:
        values["notice"] = page.t(done)
    return page.html("offer.html", heading, status, current="offers", f=f, creating=creating, action=action,
                     models=LICENCE_MODELS, availabilities=uses.AVAILABILITIES, currencies=uses.CURRENCIES,
                     epub=not creating and uses.has_epub(str(f["ean13"])), **values)


def offers(page: Page) -> Response:
    assert page.staff
    rest = page.req.path[1:]
    if not rest:
        if page.req.method != "GET":
            return not_found(page)
        return page.html("offers.html", page.t("offers"), current="offers", offers=uses.offers(page.staff),
                         model=model_of_offer)
    creating = rest == ["new"]
    ean13 = None if creating else rest[0]
    if len(rest) == 2 and rest[1] == "sales" and page.req.method == "GET":
        assert ean13
        offer, rows = uses.sales_of_staff(page.ctx, page.staff, ean13)
        return page.html("sales.html", f"{page.t('sales_points')}: {offer.title}", current="offers", offer=offer,
                         rows=rows)
    if len(rest) == 2 and rest[1] == "epub" and page.req.method == "POST":
        assert ean13
        uses.offer(page.staff, ean13)
        try:
            uses.upload_epub(page.staff, ean13, page.req.files.get("epub", b""))
        except Refused as r:
            return _offer_page(page, _form_of(uses.offer(page.staff, ean13)), False, 400, error=page.explain(r))
        return redirect(url("offers", ean13, done="epub_saved"))
    if len(rest) != 1:
        return not_found(page)
    if page.req.method == "GET":
        return _offer_page(page, dict(BLANK) if creating else _form_of(uses.offer(page.staff, str(ean13))), creating)
    if not creating:
        uses.offer(page.staff, str(ean13))  # the distributor's own, or 404
    shown = {**BLANK, **{k: v for k, v in page.req.form.items() if k in BLANK}}
    if not creating:
        shown["ean13"] = ean13
    try:
        new = uses.offer_of_form(page.staff.gln_coll, page.req.form, ean13)
        saved = console_offers.publish(page.ctx, page.staff, new, creating)
    except Refused as r:
        return _offer_page(page, shown, creating, 400, error=page.explain(r))
    return redirect(url("offers", saved.ean13, done="offer_saved"))


def model_of_offer(o: Offer) -> str:
    return model_of(o.terms)


def summary(page: Page) -> Response:
    """The daily summary of any day (yesterday by default), and its email subscription: the distributor's,
    the reseller's, or the collectivity's for its network admin."""
    from datetime import date, timedelta

    from ..domain import summary as rules
    from ..services import summary as summaries

    assert page.staff
    gln = page.staff.gln_coll
    role = "distributor" if page.distributor else "reseller" if page.reseller else "collectivity"
    if role == "collectivity" and not page.staff.admin:
        raise Refused(Reason.FORBIDDEN)
    if page.req.method == "POST":
        if page.req.path[1:] != ["subscription"]:
            return not_found(page)
        form = page.req.form
        summaries.choose(gln, role, form.get("email", ""), form.get("lang", "fr"), form.get("tz", ""))
        return redirect(url("summary", done="saved"))
    sub = summaries.subscription(gln)
    tz = sub.tz if sub else "Europe/Paris"
    try:
        day = date.fromisoformat(page.req.query.get("day", ""))
    except ValueError:
        day = page.ctx.now.astimezone(rules.zone(tz)).date() - timedelta(days=1)
    s = summaries.build(sub or summaries.Subscription(gln, role, "", page.lang, tz), day)
    done = page.req.query.get("done")
    return page.html("summary.html", page.t("summary"), current="summary", s=s, day=day.isoformat(), tz=tz, sub=sub,
                     word=lambda k: rules.word(k, page.lang), notice=page.t(done) if done in DONE else None)


def subscription(page: Page) -> Response:
    """/console/subscription/<token>: the signed link of every summary email. Whoever holds it may change
    the language and time zone of these emails, or stop them, without signing in (what one expects of an
    automated email); changing the address takes the console."""
    from ..services import summary as summaries

    token = page.req.path[1] if len(page.req.path) == 2 else ""
    sub = summaries.by_token(token)
    heading = page.t("summary_email")
    if sub is None:
        raise Refused(Reason.INVALID_LINK)
    action = url("subscription", token)
    if page.req.method == "POST":
        form = page.req.form
        stop = form.get("action") == "stop"
        try:
            kept = summaries.choose(sub.gln, sub.role, "" if stop else sub.email, form.get("lang", sub.lang),
                                    form.get("tz", sub.tz))
        except Refused as r:
            return page.html("subscription.html", heading, 400, sub=sub, action=action, error=page.explain(r),
                             tz=form.get("tz", ""))
        if kept is None:
            return page.html("message.html", heading, notice=page.t("unsubscribed", email=sub.email),
                             back=url("sign-in"))
        return redirect(url("subscription", token, done="saved"))
    done = page.req.query.get("done")
    return page.html("subscription.html", heading, sub=sub, action=action, tz=sub.tz,
                     notice=page.t(done) if done in DONE else None)


PAGES: dict[str, Handler] = {"offers": offers, "summary": summary}
