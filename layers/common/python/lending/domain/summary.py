"""The daily exportation summary: what happened to an account (distributor, reseller, collectivity) on
one day of its own calendar, and when it is due. Pure: the job (services/summary.py) gives the clock,
the day's items and sends.

- due: once it is morning (MORNING o'clock or later) in the account's time zone, the day before is due;
  an hourly job thus sends each account its summary within an hour of its morning, whatever its zone.
- the day runs from local midnight to local midnight (23 or 25 hours on a daylight-saving change).
- counts from the table's items (orders, order lines, loans), each item counted for the account it
  concerns: the collectivity that placed an order or lends, the reseller that placed it, the distributor
  whose book it is."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .values import Record

MORNING = 6
ROLES = ("distributor", "reseller", "collectivity")


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def due_day(now: datetime, tz: str) -> date | None:
    """The day whose summary is due at `now` for an account in `tz`: yesterday there, from its morning."""
    local = now.astimezone(zone(tz))
    return local.date() - timedelta(days=1) if local.hour >= MORNING else None


def bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """[start, end) of `day` in `tz`, in UTC."""
    z = zone(tz)
    start = datetime.combine(day, time(0), z).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), z).astimezone(UTC)
    return start, end


class Summary(Record):
    gln: str
    role: str
    day: date
    orders: int  # orders placed (reseller, collectivity) or received (distributor)
    licences: int  # their OK lines
    loans: int
    returns: int
    expirations: int
    offers_published: list[str]  # EANs (distributor)
    rejected: list[tuple[str, str]]  # (identifier, reason) (distributor)
    parked_callbacks: int  # collectivity: callbacks in the dead-letter queue

    def __init__(self, gln: str, role: str, day: date, orders: int = 0, licences: int = 0, loans: int = 0,
                 returns: int = 0, expirations: int = 0, offers_published: list[str] | None = None,
                 rejected: list[tuple[str, str]] | None = None, parked_callbacks: int = 0) -> None:
        self._init(gln, role, day, orders, licences, loans, returns, expirations,
                   [] if offers_published is None else offers_published, [] if rejected is None else rejected,
                   parked_callbacks)

    def figures(self) -> dict[str, int]:
        return {"orders": self.orders, "licences": self.licences, "loans": self.loans, "returns": self.returns,
                "expirations": self.expirations, "offers_published": len(self.offers_published),
                "records_rejected": len(self.rejected), "callbacks_parked": self.parked_callbacks}


def _in(value: Any, start: str, end: str) -> bool:
    return isinstance(value, str) and start <= value < end


def compute(gln: str, role: str, day: date, start: str, end: str, items: list[dict[str, Any]]) -> Summary:
    """The summary of `gln` from the day's items (orders, lines, loans; ISO UTC bounds [start, end))."""
    s = Summary(gln, role, day)
    mine = {"distributor": "glnDistributor", "reseller": "glnReseller", "collectivity": "glnColl"}[role]
    for it in items:
        kind = it.get("type")
        if kind == "order" and role != "distributor" and it.get(mine) == gln and _in(it.get("createdAt"), start, end):
            s.orders += 1
        elif kind == "line" and it.get(mine) == gln and _in(it.get("createdAt"), start, end) and "ntaTotal" in it:
            s.licences += 1
        elif kind == "loan" and role != "reseller" and it.get(mine) == gln:
            if _in(it.get("createdAt"), start, end):
                s.loans += 1
            if it.get("state") == "RETURNED" and _in(it.get("returnedAt"), start, end):
                s.returns += 1
            # an active loan whose end fell in the day expired then: nothing is written at an end
            if it.get("state") in ("EXPIRED", "ACTIVE") and _in(it.get("endDate"), start, end):
                s.expirations += 1
    if role == "distributor":  # a distributor receives lines; the orders are the distinct ones among them
        s.orders = len({(it.get("glnReseller"), it.get("orderId")) for it in items if it.get("type") == "line"
                        and it.get(mine) == gln and _in(it.get("createdAt"), start, end) and "ntaTotal" in it})
    return s


WORDS = {
    "subject": ("Daily summary of {day} - {gln}", "Récapitulatif du {day} - {gln}"),
    "intro": ("What happened on {day} ({tz}) for account {gln}:", "Activité du {day} ({tz}) pour le compte {gln} :"),
    "orders": ("Orders", "Commandes"),
    "licences": ("Licences", "Licences"),
    "loans": ("Loans", "Prêts"),
    "returns": ("Returns", "Retours"),
    "expirations": ("Expirations", "Expirations"),
    "offers_published": ("Offers published", "Offres publiées"),
    "records_rejected": ("Records rejected by the ONIX sync", "Notices rejetées par la synchronisation ONIX"),
    "callbacks_parked": ("Callbacks parked in the dead-letter queue", "Rappels en file d'attente des échecs"),
    "rejected_line": ("Rejected {identifier}: {reason}", "Rejetée {identifier} : {reason}"),
    "csv": ("The same figures as CSV: {where}", "Les mêmes chiffres en CSV : {where}"),
    "manage": ("To change the language or time zone of these emails, or to stop them: {link}",
               "Pour changer la langue ou le fuseau horaire de ces courriels, ou pour les arrêter : {link}"),
}


def word(name: str, lang: str, **values: object) -> str:
    return WORDS[name][1 if lang == "fr" else 0].format(**values)


def email(s: Summary, lang: str, tz: str, csv_key: str, manage_link: str = "") -> tuple[str, str]:
    """Subject and text of the summary's email, in `lang` (fr or en); `manage_link`: the signed link to
    manage or stop the subscription."""
    lines = [word("intro", lang, day=s.day.isoformat(), tz=tz, gln=s.gln), ""]
    lines += [f"{word(k, lang)}: {v}" for k, v in s.figures().items()]
    if s.offers_published:
        lines += ["", word("offers_published", lang) + ": " + ", ".join(s.offers_published)]
    lines += [word("rejected_line", lang, identifier=i, reason=r) for i, r in s.rejected]
    lines += ["", word("csv", lang, where=csv_key)]
    if manage_link:
        lines += ["", word("manage", lang, link=manage_link)]
    return word("subject", lang, day=s.day.isoformat(), gln=s.gln), "\n".join(lines) + "\n"


def to_csv(s: Summary) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["day", "gln", "role", "figure", "value", "detail"])
    for k, v in s.figures().items():
        w.writerow([s.day.isoformat(), s.gln, s.role, k, v, ""])
    for ean in s.offers_published:
        w.writerow([s.day.isoformat(), s.gln, s.role, "offer_published", 1, ean])
    for identifier, reason in s.rejected:
        w.writerow([s.day.isoformat(), s.gln, s.role, "record_rejected", 1, f"{identifier}: {reason}"])
    return out.getvalue()
