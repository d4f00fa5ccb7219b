"""The patron space's one Lambda handler: /sign_in and /patron/... Each page decodes the form, calls a
use case (services.patron_space) and renders with the console's templates, words, cookies, CSRF and
headers (lending.console). The reader's resources are answered as bytes under their signed URLs."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from .. import web
from ..console import answers as console
from ..console.http import LANG, PRE, Request, Response, new_nonce, redirect, request_of
from ..console.i18n import pick, translator
from ..console.render import render
from ..domain.refusals import Reason, Refused
from ..domain.values import Record
from ..services import clock
from ..services import patron_space as uses
from ..services.context import Ctx, warm_up
from ..services.patron_space import PatronSession
from ..text import same_secret

SESSION = "lh_patron"
STATIC = Path(__file__).with_name("static")
STATIC_FILES = {"epub.min.js": "text/javascript", "reader.js": "text/javascript",
                "epub.LICENSE.txt": "text/plain; charset=utf-8"}
READER_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline' blob:; "
              "img-src 'self' blob: data:; font-src 'self' blob: data:; media-src 'self' blob:; "
              "frame-src 'self' blob:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
              "base-uri 'self'")
# Refusal reason -> HTTP status: the console's table (its words too, console.words), but a reader's
# resource whose signature fails is forbidden and one of a loan that ended is gone.
STATUS: dict[Reason, int] = console.STATUS | {
    Reason.INVALID_LINK: 403, Reason.LOAN_RETURNED: 410, Reason.LOAN_EXPIRED: 410,
}
# The refusals the reader's script meets on a resource (the body names the reason): their words ride along.
READER_REFUSALS = (Reason.LOAN_RETURNED, Reason.LOAN_EXPIRED, Reason.INVALID_LINK, Reason.NOT_ON_SITE)


def url(*segments: str, **query: str) -> str:
    path = "/patron" + "".join("/" + quote(s, safe="") for s in segments)
    return path + ("?" + urlencode(query) if query else "")


class Page(Record):
    req: Request
    ctx: Ctx
    lang: str
    nonce: str
    session: PatronSession | None
    pre: str | None

    def __init__(self, req: Request, ctx: Ctx, lang: str, nonce: str, session: PatronSession | None = None,
                 pre: str | None = None) -> None:
        self._init(req, ctx, lang, nonce, session, pre)

    def t(self, key: str, **values: object) -> str:
        return translator(self.lang)(key, **values)

    @property
    def csrf(self) -> str:
        if self.session is not None:
            return self.session.csrf
        if self.pre is None:
            self.pre = self.req.cookie(PRE) or secrets.token_urlsafe(24)
        return self.pre

    def html(self, template: str, heading: str, status: int = 200, current: str = "", **values: Any) -> Response:
        menu = [("my_loans", url("loans")), ("my_holds", url("holds")), ("catalogue", url("titles")),
                ("my_history", url("history"))]
        here = "/" + "/".join(quote(s, safe="") for s in self.req.path)
        other = "fr" if self.lang == "en" else "en"
        body = render(template, self.lang, heading=heading, nonce=self.nonce, staff=self.session, menu=menu,
                      current=current, csrf=self.csrf, switch_url=url("lang", other, next=here),
                      app_name="patron_app", sign_out_url=url("sign-out"),
                      back_label=self.t("back_to_loans") if self.session else self.t("sign_in"),
                      error=values.pop("error", None), notice=values.pop("notice", None), **values)
        response = Response(status, body)
        if self.session is None and self.pre is not None and self.req.cookie(PRE) != self.pre:
            response.set_cookie(self.req, PRE, self.pre)
        return response

    def explain(self, r: Refused) -> str:
        return console.words(self.t, r)

    def refusal(self, r: Refused, template: str = "message.html", heading: str = "", **values: Any) -> Response:
        back = url("loans") if self.session else "/sign_in"
        values.setdefault("back", back)
        return self.html(template, heading or self.t("error_title"), STATUS.get(r.reason, 400),
                         error=self.explain(r), **values)


def _csrf_ok(page: Page) -> bool:
    sent = page.req.form.get("csrf", "")
    expected = page.session.csrf if page.session is not None else page.req.cookie(PRE)
    return bool(sent) and bool(expected) and same_secret(sent, expected or "")


# --- pages ---

def sign_in(page: Page) -> Response:
    if page.req.method == "GET":
        if page.session is not None:
            return redirect(url("loans"))
        return page.html("patron_sign_in.html", page.t("sign_in"), library="", member="")
    form = page.req.form
    library, member = form.get("library", ""), form.get("member", "")
    try:
        token, _ = uses.sign_in(page.ctx, library, member, form.get("password", ""), page.req.address)
    except Refused as r:
        return page.refusal(r, "patron_sign_in.html", page.t("sign_in"), library=library, member=member, back="")
    response = redirect(url("loans"))
    response.set_cookie(page.req, SESSION, token)
    return response


def sign_out(page: Page) -> Response:
    uses.sign_out(page.req.cookie(SESSION))
    response = redirect("/sign_in")
    response.clear_cookie(page.req, SESSION)
    return response


DONE = {"returned", "loan_made", "hold_placed", "hold_cancelled"}
# A borrow refused because every copy is out: the title page offers a hold instead of a dead end.
ALL_OUT = (Reason.POOL_FULL, Reason.ALL_ON_LOAN)


def loans(page: Page) -> Response:
    assert page.session
    mine = uses.my_loans(page.ctx, page.session)
    done = page.req.query.get("done")
    return page.html("patron_loans.html", page.t("my_loans"), current="my_loans", mine=mine,
                     streaming=uses.STREAMING, notice=page.t(done) if done in DONE else None,
                     action_url=lambda loan_id, action: url("loans", loan_id, action))


def holds(page: Page) -> Response:
    assert page.session
    mine = uses.my_holds(page.ctx, page.session)
    done = page.req.query.get("done")
    return page.html("patron_holds.html", page.t("my_holds"), current="my_holds", mine=mine,
                     notice=page.t(done) if done in DONE else None,
                     cancel_url=lambda hold_id: url("holds", hold_id, "cancel"),
                     borrow_url=lambda ean13: url("titles", ean13, "borrow"))


def hold_action(page: Page, hold_id: str, action: str) -> Response:
    assert page.session
    if action == "cancel" and page.req.method == "POST":
        uses.cancel_hold(page.ctx, page.session, hold_id)
        return redirect(url("holds", done="hold_cancelled"))
    return not_found(page)


def titles(page: Page) -> Response:
    assert page.session
    raw = page.req.query.get("page", "1")
    number = int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) < 6 and int(raw) > 0 else 1
    rows, pages = uses.titles(page.ctx, page.session, number)
    return page.html("patron_titles.html", page.t("catalogue"), current="catalogue", rows=rows,
                     title_url=lambda ean13: url("titles", ean13),
                     previous_url=url("titles", page=str(number - 1)) if number > 1 else None,
                     next_url=url("titles", page=str(number + 1)) if number < pages else None)


def title(page: Page, ean13: str, status: int = 200, error: str | None = None, email: str = "") -> Response:
    assert page.session
    view = uses.title_page(page.ctx, page.session, ean13)
    return page.html("patron_title.html", view.title, status, current="catalogue", view=view, error=error,
                     email=email, borrow_url=url("titles", ean13, "borrow"), hold_url=url("titles", ean13, "hold"),
                     cancel_url=url("holds", view.hold.hold.hold_id, "cancel") if view.hold else "",
                     chosen=page.req.form.get("pool", ""))


def title_action(page: Page, ean13: str, action: str) -> Response:
    assert page.session
    if page.req.method != "POST" or action not in ("borrow", "hold"):
        return not_found(page)
    try:
        pool = uses.pool_of(page.req.form.get("pool", ""))
        if action == "borrow":
            uses.borrow(page.ctx, page.session, ean13, pool)
            return redirect(url("loans", done="loan_made"))
        uses.place_hold(page.ctx, page.session, ean13, page.req.form.get("email", ""), pool)
        return redirect(url("holds", done="hold_placed"))
    except Refused as r:
        if r.reason in (Reason.MEDIUM_NOT_FOUND, Reason.FORBIDDEN):
            raise
        code = 403 if r.reason in ALL_OUT else STATUS.get(r.reason, 400)
        return title(page, ean13, code, page.explain(r), email=page.req.form.get("email", "")[:254])


def history(page: Page) -> Response:
    assert page.session
    return page.html("patron_history.html", page.t("my_history"), current="my_history",
                     mine=uses.my_loans(page.ctx, page.session))


def loan_action(page: Page, loan_id: str, action: str) -> Response:
    assert page.session
    if action == "return" and page.req.method == "POST":
        uses.return_loan(page.ctx, page.session, loan_id)
        return redirect(url("loans", done="returned"))
    if action == "download" and page.req.method == "POST":
        return redirect(uses.download(page.ctx, page.session, loan_id))
    if action == "read" and page.req.method == "GET":
        reading = uses.open_reader(page.ctx, page.session, loan_id, page.req.address)
        base = f"{page.req.base}/patron/read/{quote(page.session.gln_coll, safe='')}/{quote(loan_id, safe='')}/"
        data = {"base": base, "signed": reading.signed, "label": page.t("reader_label"), "messages": {
            k: page.t(k) for k in (*(r.value for r in READER_REFUSALS), "reader_failed")}}
        response = page.html("reader.html", reading.title, current="my_loans", reading=reading,
                             data=data)
        response.csp = READER_CSP
        return response
    return not_found(page)


def not_found(page: Page) -> Response:
    return page.html("message.html", page.t("page_not_found"), 404, back=url("loans") if page.session else "/sign_in")


def language(page: Page) -> Response:
    lang = page.req.path[2] if len(page.req.path) == 3 and page.req.path[2] in ("en", "fr") else "en"
    target = page.req.query.get("next", "")
    if not (target.startswith("/patron") or target == "/sign_in") or target.startswith("//"):
        target = url("loans")
    response = redirect(target)
    response.set_cookie(page.req, LANG, lang, max_age=365 * 86400)
    return response


# --- bytes: the reader's resources and the static files ---

def _plain(status: int, text: str) -> web.Answer:
    return web.Answer(status, text, {
        "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


def resource(req: Request, ctx: Ctx) -> web.Answer:
    """GET /patron/read/{gln}/{loanId}/{path in the EPUB}?e=&s=: one resource, under its signature."""
    gln, loan_id, path = req.path[2], req.path[3], "/".join(req.path[4:])
    try:
        content, media_type = uses.resource(ctx, gln, loan_id, path, req.query.get("e", ""), req.query.get("s", ""),
                                            req.address)
    except Refused as r:
        return _plain(STATUS.get(r.reason, 400), r.reason.value)
    return web.Answer(200, content, {
        "Content-Type": media_type, "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src blob: data:; sandbox",
        "Cross-Origin-Resource-Policy": "same-origin"})


def static(name: str) -> web.Answer:
    if name not in STATIC_FILES:
        return _plain(404, "not_found")
    return web.Answer(200, (STATIC / name).read_text(encoding="utf-8"), {
        "Content-Type": STATIC_FILES[name], "Cache-Control": "public, max-age=3600",
        "X-Content-Type-Options": "nosniff"})


def route(page: Page) -> Response:
    req = page.req
    path = req.path
    if path == ["sign_in"]:
        return sign_in(page) if req.method in ("GET", "POST") else not_found(page)
    rest = path[1:]
    if rest[:1] == ["lang"]:
        return language(page)
    if page.session is None:
        return redirect("/sign_in")
    if rest in ([], ["loans"]) and req.method == "GET":
        return redirect(url("loans")) if not rest else loans(page)
    if rest == ["history"] and req.method == "GET":
        return history(page)
    if rest == ["holds"] and req.method == "GET":
        return holds(page)
    if len(rest) == 3 and rest[0] == "holds":
        return hold_action(page, rest[1], rest[2])
    if rest == ["titles"] and req.method == "GET":
        return titles(page)
    if len(rest) == 2 and rest[0] == "titles" and req.method == "GET":
        return title(page, rest[1])
    if len(rest) == 3 and rest[0] == "titles":
        return title_action(page, rest[1], rest[2])
    if rest == ["sign-out"] and req.method == "POST":
        return sign_out(page)
    if len(rest) == 3 and rest[0] == "loans":
        return loan_action(page, rest[1], rest[2])
    return not_found(page)


def handle(http: web.Request) -> web.Answer:
    req = request_of(http, prefix="")
    ctx = Ctx(now=clock.now(), base_url=req.base)
    if req.method == "GET" and req.path[:2] == ["patron", "static"] and len(req.path) == 3:
        return static(req.path[2])
    if req.method == "GET" and req.path[:2] == ["patron", "read"] and len(req.path) >= 5:
        return resource(req, ctx)
    page = Page(req, ctx, pick(req.cookie(LANG), req.headers.get("accept-language")), new_nonce())
    page.session = uses.session_of(ctx, req.cookie(SESSION))
    if req.method == "POST" and req.path[1:2] != ["lang"] and (not req.same_origin() or not _csrf_ok(page)):
        response = page.html("message.html", page.t("error_title"), 403, error=page.t("csrf"), back="/sign_in")
    else:
        try:
            response = route(page)
        except Refused as r:
            response = page.refusal(r)
    if page.session is None and req.cookie(SESSION) and not any(c.startswith(req.cookie_name(SESSION))
                                                                 for c in response.cookies):
        response.clear_cookie(req, SESSION)
    return response.to_answer(page.nonce)


def _fault(http: web.Request, request_id: str) -> web.Answer:
    return _plain(500, "Internal error / Erreur interne")


def handler() -> web.Handler:
    warm_up()  # clients built once per container, at init
    return web.Door[web.Answer]("patron space", _fault).handler(handle)
