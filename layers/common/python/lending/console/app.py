"""The console's one Lambda handler: routes /console/... to pages. Each page decodes the form, calls a
use case (services.staff, services.console) and renders; refusals become messages in the reader's
language. Every POST needs its CSRF token (the session's, or before sign-in the double-submit cookie's)
and, when the browser names one, the console's own Origin."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from .. import web
from ..domain.refusals import Reason, Refused
from ..domain.staff import Session, Staff, StaffRole, StaffState
from ..domain.values import Record
from ..observability import logger
from ..services import clock
from ..services import console as uses
from ..services import staff as auth
from ..services.context import Ctx, warm_up
from ..text import same_secret
from .answers import STATUS, words
from .http import LANG, PRE, Request, Response, new_nonce, redirect, request_of, url
from .i18n import pick, translator
from .render import qr_svg, render

SESSION = "lh_session"
__all__ = ["LANG", "PRE", "STATUS", "words"]  # the console's table (console/answers.py) and cookies (console/http.py)


class Page(Record):
    req: Request
    ctx: Ctx
    lang: str
    nonce: str
    staff: Staff | None
    session: Session | None
    pre: str | None  # the pre-sign-in CSRF token this answer sets, if new
    distributor: bool  # the signed-in staff work for a distributor (offers), not a library
    reseller: bool  # ... for a reseller (its daily summary only)

    def __init__(self, req: Request, ctx: Ctx, lang: str, nonce: str, staff: Staff | None = None,
                 session: Session | None = None, pre: str | None = None, distributor: bool = False,
                 reseller: bool = False) -> None:
        self._init(req, ctx, lang, nonce, staff, session, pre, distributor, reseller)


    @property
    def kind(self) -> str:
        """Whose console this is: "library" (a collectivity's network), "distributor" or "reseller"."""
        return "distributor" if self.distributor else "reseller" if self.reseller else "library"

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
        staff = self.staff if self.session is not None and self.session.mfa else None
        menu = [("dashboard", url("dashboard")), ("licences", url("licences")), ("patrons", url("patrons")),
                ("holds", url("holds"))]
        admin = [("team", url("staff")), ("audit", url("audit"))] if staff is not None and staff.admin else []
        if self.distributor:
            menu = [("offers", url("offers")), ("summary", url("summary")), *admin]
        elif self.reseller:
            menu = [("summary", url("summary")), *admin]
        elif admin:
            menu += [("summary", url("summary")), ("settings", url("settings")), *admin]
        here = url(*self.req.path)
        other = "fr" if self.lang == "en" else "en"
        values.setdefault("app_name", "app_distributor" if self.distributor else
                          "app_reseller" if self.reseller else "app")
        body = render(template, self.lang, heading=heading, nonce=self.nonce, staff=staff, menu=menu,
                      current=current, csrf=self.csrf, switch_url=url("lang", other, next=here),
                      error=values.pop("error", None), notice=values.pop("notice", None), **values)
        response = Response(status, body)
        if self.session is None and self.pre is not None and self.req.cookie(PRE) != self.pre:
            response.set_cookie(self.req, PRE, self.pre)
        return response

    def refusal(self, r: Refused, template: str = "message.html", heading: str = "", status: int | None = None,
                **values: Any) -> Response:
        """A refusal as a page: its status from STATUS (the page's own when given), its message in words."""
        code = status or STATUS.get(r.reason, 400)
        if r.reason is Reason.THROTTLED:
            return self.html(template, heading or self.t("error_title"), 429, error=words(self.t, r), **values)
        return self.html(template, heading or self.t("error_title"), code, error=self.explain(r),
                         back=url("dashboard"), **values)

    def explain(self, r: Refused) -> str:
        """The refusal in the reader's words; a rule's own message (the spec's English) when we have none."""
        return words(self.t, r)


Handler = Callable[[Page], Response]

def _csrf_ok(page: Page) -> bool:
    sent = page.req.form.get("csrf", "")
    expected = page.session.csrf if page.session is not None else page.req.cookie(PRE)
    return bool(sent) and bool(expected) and same_secret(sent, expected or "")


# --- sign-in, first sign-in, reset ---

def sign_in(page: Page) -> Response:
    if page.req.method == "GET" and page.session is not None and page.session.mfa:
        return redirect(url("dashboard"))
    if page.req.method == "GET":
        return page.html("sign_in.html", page.t("sign_in"), email="")
    email = page.req.form.get("email", "")
    try:
        token, _ = auth.sign_in(page.ctx, email, page.req.form.get("password", ""), page.req.address)
    except Refused as r:
        return page.refusal(r, "sign_in.html", page.t("sign_in"), email=email)
    response = redirect(url("sign-in", "code"))
    response.set_cookie(page.req, SESSION, token)
    return response


def code(page: Page) -> Response:
    if page.session is None or page.session.mfa:
        return redirect(url("sign-in"))
    if page.req.method == "GET":
        return page.html("code.html", page.t("code_title"))
    try:
        token, _ = auth.verify_code(page.ctx, page.req.cookie(SESSION), page.req.form.get("code", ""),
                                    page.req.address)
    except Refused as r:
        return page.refusal(r, "code.html", page.t("code_title"))
    assert page.staff
    uses.audit(page.ctx, page.staff, "staff.sign_in", page.staff.email)
    response = redirect(url("dashboard"))
    response.set_cookie(page.req, SESSION, token)
    return response


def sign_out(page: Page) -> Response:
    auth.sign_out(page.req.cookie(SESSION))
    response = redirect(url("sign-in"))
    response.clear_cookie(page.req, SESSION)
    return response


def forgot(page: Page) -> Response:
    if page.req.method == "GET":
        return page.html("forgot.html", page.t("forgot_title"))
    try:
        found = auth.request_reset(page.ctx, page.req.form.get("email", ""), page.req.address)
    except Refused as r:
        return page.refusal(r, "forgot.html", page.t("forgot_title"))
    if found is not None:
        staff, token = found
        link = page.req.base + url("reset", token)
        _mail(staff.email, "Reset your console password / Réinitialiser votre mot de passe",
              f"To choose a new password, open this link (valid one hour):\n"
              f"Pour choisir un nouveau mot de passe, ouvrez ce lien (valable une heure) :\n\n{link}\n")
    return page.html("forgot.html", page.t("forgot_title"), notice=page.t("reset_sent"))


def reset(page: Page) -> Response:
    token = page.req.path[1] if len(page.req.path) == 2 else ""
    heading, action = page.t("reset_title"), url("reset", token)
    if page.req.method == "GET":
        return page.html("reset.html", heading, valid=True, action=action)
    form = page.req.form
    if form.get("password") != form.get("password2"):
        return page.html("reset.html", heading, 400, valid=True, action=action, error=page.t("passwords_differ"))
    try:
        auth.reset_password(page.ctx, token, form.get("password", ""), form.get("code", ""), page.req.address)
    except Refused as r:
        return page.refusal(r, "reset.html", heading, valid=r.reason is not Reason.INVALID_LINK, action=action)
    return page.html("message.html", heading, notice=page.t("reset_done"), back=url("sign-in"))


def welcome(page: Page) -> Response:
    token = page.req.path[1] if len(page.req.path) == 2 else ""
    heading, action = page.t("welcome_title"), url("welcome", token)
    try:
        email, secret = auth.enrolment(page.ctx, token)
    except Refused as r:
        return page.refusal(r, heading=heading)
    shown: dict[str, Any] = {"email": email, "secret": secret, "qr": qr_svg(auth.provisioning_uri(secret, email)),
             "action": action}
    if page.req.method == "GET":
        return page.html("welcome.html", heading, **shown)
    form = page.req.form
    if form.get("password") != form.get("password2"):
        return page.html("welcome.html", heading, 400, error=page.t("passwords_differ"), **shown)
    try:
        codes, session_token, session = auth.accept_invite(page.ctx, token, form.get("password", ""),
                                                           form.get("code", ""))
    except Refused as r:
        return page.refusal(r, "welcome.html", heading, **shown)
    page.session, page.staff = session, auth.store.get(session.email)
    response = page.html("recovery.html", page.t("recovery_title"), codes=codes)
    response.set_cookie(page.req, SESSION, session_token)
    return response


def language(page: Page) -> Response:
    lang = page.req.path[1] if len(page.req.path) == 2 and page.req.path[1] in ("en", "fr") else "en"
    target = page.req.query.get("next", "")
    if not target.startswith("/console") or target.startswith("//"):
        target = url("dashboard")
    response = redirect(target)
    response.set_cookie(page.req, LANG, lang, max_age=365 * 86400)
    return response


# --- pages of signed-in staff ---

def dashboard(page: Page) -> Response:
    assert page.staff
    if page.distributor:
        return redirect(url("offers"))
    if page.reseller:
        return redirect(url("summary"))
    board = uses.dashboard(page.ctx, page.staff)
    peak = max([n for _, n in board.per_day] + [1])
    return page.html("dashboard.html", page.t("dashboard"), current="dashboard", board=board, peak=peak)


def licences(page: Page) -> Response:
    assert page.staff
    return page.html("licences.html", page.t("licences"), current="licences",
                     rows=uses.licences(page.ctx, page.staff))


def patrons(page: Page) -> Response:
    assert page.staff
    if len(page.req.path) == 1:
        q = page.req.query.get("q", "").strip()
        if q:
            member = uses.find_patron(page.staff, q)
            if member is not None:
                return redirect(url("patrons", member))
            return page.html("patrons.html", page.t("search_title"), 404, current="patrons", q=q,
                             error=page.t("no_patron"))
        return page.html("patrons.html", page.t("search_title"), current="patrons", q="")
    member, rest = page.req.path[1], page.req.path[2:]
    if page.req.method == "GET" and not rest:
        return patron_page(page, member)
    if page.req.method != "POST":
        return not_found(page)
    if rest == ["key"]:
        key = uses.patron_api_key(page.staff, member)
        uses.audit(page.ctx, page.staff, "patron.api_key.view", member)
        return patron_page(page, member, api_key=key)
    if rest == ["key", "regenerate"]:
        key = uses.regenerate_patron_api_key(page.ctx, page.staff, member)
        return patron_page(page, member, api_key=key, notice=page.t("key_regenerated"))
    if rest == ["password"]:
        try:
            uses.set_patron_password(page.ctx, page.staff, member, page.req.form.get("password", ""))
        except Refused as r:
            if r.reason not in (Reason.PASSWORD_TOO_SHORT, Reason.PASSWORD_TOO_LONG, Reason.PASSWORD_IS_EMAIL):
                raise
            return patron_page(page, member, error=page.explain(r))
        return redirect(url("patrons", member, done="password_set"))
    if rest == ["courtesy"]:
        uses.grant_courtesy(page.ctx, page.staff, member)
        return redirect(url("patrons", member, done="courtesy_done"))
    if len(rest) == 3 and rest[0] == "loans" and rest[2] == "return":
        uses.return_loan(page.ctx, page.staff, member, rest[1])
        return redirect(url("patrons", member, done="returned"))
    return not_found(page)


DONE = {"returned", "courtesy_done", "saved", "declared", "invited", "password_set", "hold_cancelled"}


def holds(page: Page) -> Response:
    assert page.staff
    rest = page.req.path[1:]
    if page.req.method == "POST":
        if len(rest) == 2 and rest[1] == "cancel":
            view = uses.cancel_hold(page.ctx, page.staff, rest[0])
            if page.req.form.get("back") == "patron":  # cancelled from the patron's record: back there
                return redirect(url("patrons", view.hold.member_id, done="hold_cancelled"))
            return redirect(url("holds", done="hold_cancelled"))
        return not_found(page)
    if rest:
        return not_found(page)
    raw = page.req.query.get("page", "1")
    number = int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) < 6 else 1
    titles, more = uses.holds(page.ctx, page.staff, max(1, number))
    done = page.req.query.get("done")
    return page.html("holds.html", page.t("holds"), current="holds", titles=titles, number=number,
                     older_url=url("holds", page=str(number + 1)) if more else None,
                     newer_url=url("holds", page=str(number - 1)) if number > 1 else None,
                     notice=page.t(done) if done in DONE else None,
                     cancel_url=lambda hold_id: url("holds", hold_id, "cancel"),
                     patron_url=lambda member: url("patrons", member))


def patron_page(page: Page, member: str, api_key: str | None = None, notice: str | None = None,
                error: str | None = None) -> Response:
    assert page.staff
    rec = uses.patron(page.ctx, page.staff, member)
    tab = "history" if page.req.query.get("tab") == "history" else "loans"
    done = page.req.query.get("done")
    notice = notice or (page.t(done) if done in DONE else None)
    return page.html("patron.html", f"{page.t('patron')} {member}", current="patrons", rec=rec, member=member,
                     tab=tab, now=page.ctx.now, api_key=api_key, notice=notice, error=error,
                     password_url=url("patrons", member, "password"),
                     loans_url=url("patrons", member), history_url=url("patrons", member, tab="history"),
                     key_url=url("patrons", member, "key"), regenerate_url=url("patrons", member, "key", "regenerate"),
                     courtesy_url=url("patrons", member, "courtesy"),
                     cancel_hold_url=lambda hold_id: url("holds", hold_id, "cancel"),
                     return_url=lambda loan_id: url("patrons", member, "loans", loan_id, "return"))


def settings(page: Page) -> Response:
    assert page.staff
    rest = page.req.path[1:]
    shown, shown_label = None, None
    notice, error = None, None
    status = 200
    if page.req.method == "POST":
        form = page.req.form
        try:
            if rest == ["limits"]:
                uses.set_limits(page.ctx, page.staff, form)
                return redirect(url("settings", done="saved"))
            if rest == ["ips"]:
                already = uses.declare_ips(page.ctx, page.staff, form.get("ips", "").splitlines())
                if not already:
                    return redirect(url("settings", done="declared"))
                notice = page.t("declared") + " " + page.t("already_declared", entries=" ".join(already))
        except Refused as r:  # shown above the form, to be corrected
            error, status = page.explain(r), 400
        if rest in (["limits"], ["ips"]):
            pass
        elif rest == ["api-key"]:
            shown, shown_label = uses.rotate_api_key(page.ctx, page.staff), page.t("new_api_key")
        elif rest == ["callback-secret"]:
            shown, shown_label = uses.rotate_callback_secret(page.ctx, page.staff), page.t("new_secret")
        else:
            return not_found(page)
    elif rest:
        return not_found(page)
    done = page.req.query.get("done")
    notice = notice or (page.t(done) if done in DONE else None)
    return page.html("settings.html", page.t("settings"), status, current="settings", s=uses.settings(page.staff),
                     shown=shown, shown_label=shown_label, notice=notice, error=error)


def team(page: Page) -> Response:
    assert page.staff
    rest = page.req.path[1:]
    if page.req.method == "POST":
        if rest == ["invite"]:
            form = page.req.form
            role = StaffRole.ADMIN if form.get("role") == "admin" else StaffRole.STAFF
            org = uses.collectivity(page.staff)  # the staff member's organisation, whichever kind
            members = org.members if page.kind == "library" else ()  # member libraries are a network's only
            staff, token = auth.invite(page.ctx, page.staff, form.get("email", ""), role, form.get("library") or None,
                                       members)
            uses.audit(page.ctx, page.staff, "staff.invite", staff.email, role.value)
            link = page.req.base + url("welcome", token)
            _mail(staff.email, *invitation_email(org.name or org.gln, page.kind, link))
            return redirect(url("staff", done="invited"))
        if len(rest) == 2 and rest[1] in ("disable", "enable"):
            state = StaffState.DISABLED if rest[1] == "disable" else StaffState.ACTIVE
            auth.set_state(page.staff, rest[0], state)
            uses.audit(page.ctx, page.staff, f"staff.{rest[1]}", rest[0])
            return redirect(url("staff", done="saved"))
        return not_found(page)
    if rest:
        return not_found(page)
    done = page.req.query.get("done")
    network = page.kind == "library"
    return page.html("team.html", page.t("team"), current="team", people=auth.team(page.staff), network=network,
                     members=uses.collectivity(page.staff).members if network else (),
                     notice=page.t(done) if done in DONE else None,
                     state_url=lambda email, action: url("staff", email, action))


def audit(page: Page) -> Response:
    assert page.staff
    return page.html("audit.html", page.t("audit"), current="audit", entries=uses.audit_log(page.staff))


def not_found(page: Page) -> Response:
    return page.html("message.html", page.t("page_not_found"), 404, back=url("dashboard"))


def invitation_email(organisation: str, kind: str, link: str) -> tuple[str, str]:
    from ..services import mailer  # on first use: the console's cold start needs no email code

    return mailer.invitation_email(organisation, kind, link)


def _mail(to: str, subject: str, text: str) -> None:
    from ..services import mailer

    try:
        mailer.send(to, subject, text)
    except Exception as e:  # the page must not tell whether an address exists; the log says what failed
        logger.warning("console email not sent", extra={"error": type(e).__name__})


PAGES: dict[str, Handler] = {"dashboard": dashboard, "licences": licences, "patrons": patrons, "holds": holds,
                             "settings": settings, "staff": team, "audit": audit}
LIBRARY_PAGES = frozenset(PAGES) - {"dashboard", "staff", "audit"}  # every organisation's admin has Staff and Audit
DISTRIBUTOR_PAGES = frozenset({"offers"})  # "summary" is on both sides


def route(page: Page) -> Response:
    req = page.req
    head = req.path[0] if req.path else ""
    if head == "" and req.method == "GET":
        return redirect(url("dashboard") if page.session and page.session.mfa else url("sign-in"))
    if req.method not in ("GET", "POST"):
        return page.html("message.html", page.t("page_not_found"), 405, back=url("dashboard"))
    if req.method == "POST" and head != "lang" and (not req.same_origin() or not _csrf_ok(page)):
        return page.html("message.html", page.t("error_title"), 403, error=page.t("csrf"), back=url("sign-in"))
    if head == "sign-in":
        return code(page) if req.path[1:] == ["code"] else sign_in(page) if len(req.path) == 1 else not_found(page)
    if head == "sign-out" and req.method == "POST":
        return sign_out(page)
    public = {"forgot": forgot, "reset": reset, "welcome": welcome, "lang": language}
    if head in public:
        return public[head](page)
    from . import distributor

    if head == "subscription":  # the signed link of the daily summary's emails: no sign-in
        return distributor.subscription(page)
    handler = PAGES.get(head) or distributor.PAGES.get(head)
    if handler is None:
        return not_found(page)
    if page.session is None or not page.session.mfa:
        return redirect(url("sign-in"))
    if (head in LIBRARY_PAGES and (page.distributor or page.reseller)) or \
            (head in DISTRIBUTOR_PAGES and not page.distributor):
        return page.html("message.html", page.t("error_title"), 403, error=page.t("other_console"),
                         back=url("dashboard"))
    if head in ("settings", "staff", "audit") and not (page.staff and page.staff.admin):
        admin_only = "forbidden" if page.kind == "library" else "forbidden_org"  # no network outside libraries
        return page.html("message.html", page.t("error_title"), 403, error=page.t(admin_only), back=url("dashboard"))
    return handler(page)


def handle(http: web.Request) -> web.Answer:
    if http.path.startswith("/distributor/"):
        from . import api

        return api.handle(http)
    req = request_of(http)
    ctx = Ctx(now=clock.now(), base_url=req.base)
    page = Page(req, ctx, pick(req.cookie(LANG), req.headers.get("accept-language")), new_nonce())
    found = auth.session_of(ctx, req.cookie(SESSION))
    if found is not None:
        page.staff, page.session = found
        from ..services.distributor import organisation_role

        role = organisation_role(page.staff)
        page.distributor, page.reseller = role == "distributor", role == "reseller"
    try:
        response = route(page)
    except Refused as r:  # a refusal is a page in the reader's words (STATUS, words): it needs the page
        response = page.refusal(r)
    if found is None and req.cookie(SESSION) and not any(c.startswith(req.cookie_name(SESSION))
                                                         for c in response.cookies):
        response.clear_cookie(req, SESSION)  # an expired or revoked session: the browser forgets it too
    return response.to_answer(page.nonce)


def fault(http: web.Request, request_id: str) -> web.Answer:
    """A fault of ours, on a page of the console or the patron space: plain words, no page around them."""
    return web.Answer(500, "Internal error / Erreur interne",
                      {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"})


def handler() -> web.Handler:
    warm_up()  # clients built once per container, at init
    return web.Door[web.Answer]("console", fault).handler(handle)
