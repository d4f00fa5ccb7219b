"""Library API v1 patrons: their record (limits, courtesy loans) and the library's and patron's loan lists.

- patron record   PATRON#<glnColl>#<memberId> / PATRON    version, active loans, day/month counters, courtesy
- library's loans V1LOANS#<glnColl> / <createdAt>#<loanId> one small item per v1 loan (newest first listing)
- patron's loans  the loan items themselves on GSI4 MEMBER#<glnColl>#<memberId> / <createdAt>#<loanId>
- email owner     PATRONMAIL#<glnColl>#<digest> / EMAIL       memberId of the patron who first gave it (the
                  address itself is never stored: domain.patrons.email_digest)

The record, the library's list item and the email claim are written by the loan's own transaction (a
`PatronWrite` given to store.loans.lend), so none of them can exist without the others."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain.dates import iso
from ..domain.patrons import Patron
from ..domain.values import Value
from . import table


def patron_key(gln_coll: str, member_id: str) -> tuple[str, str]:
    return f"PATRON#{gln_coll}#{member_id}", "PATRON"


def get(gln_coll: str, member_id: str) -> Patron:
    """The patron's record (version 0 when there is none yet), read consistently."""
    item = table.get(*patron_key(gln_coll, member_id))
    if item is None:
        return Patron(gln_coll, member_id)
    return Patron(gln_coll=gln_coll, member_id=member_id, version=int(item.get("version", 0)),
                  active=dict(item.get("active") or {}), day=item.get("day", ""),
                  day_count=int(item.get("dayCount", 0)), month=item.get("month", ""),
                  month_count=int(item.get("monthCount", 0)), courtesy=int(item.get("courtesy", 0)))


class PatronWrite(Value):
    """What a v1 loan writes about its patron, in the loan's own transaction: the record replaced as
    read (`before.version`), the library's list item of the loan, and the email (its digest) claimed for
    the patron when one was given. Any of them moved meanwhile: store.loans.PatronMoved."""

    before: Patron
    after: Patron
    email_digest: str | None

    def __init__(self, before: Patron, after: Patron, email_digest: str | None = None) -> None:
        self._init(before, after, email_digest)

    def items(self, loan_id: str, created_at: datetime) -> list[dict[str, Any]]:
        """The TransactWriteItems operations (the key layout stays here)."""
        gln, member = self.after.gln_coll, self.after.member_id
        out = [record_op(self.before, self.after), listing_op(gln, loan_id, member, created_at)]
        if self.email_digest:
            out.append(email_claim_op(gln, self.email_digest, member))
        return out


def record_op(old: Patron, new: Patron) -> dict[str, Any]:
    """Replace the record as read (`old.version`): fails if anything changed it since."""
    pk, sk = patron_key(new.gln_coll, new.member_id)
    item = {"pk": pk, "sk": sk, "type": "patron", "glnColl": new.gln_coll, "memberId": new.member_id,
            "version": new.version, "active": new.active, "day": new.day, "dayCount": new.day_count,
            "month": new.month, "monthCount": new.month_count, "courtesy": new.courtesy}
    if old.version == 0:
        return {"Put": {"Item": table.ser(item), "ConditionExpression": "attribute_not_exists(pk)"}}
    return {"Put": {"Item": table.ser(item), "ConditionExpression": "version = :v",
                    "ExpressionAttributeValues": {":v": table.val(old.version)}}}


def grant_courtesy(gln_coll: str, member_id: str) -> int:
    """One more courtesy loan for the patron; bumps the version so that a creation racing it re-reads.
    Returns the courtesy loans now granted and unused."""
    pk, sk = patron_key(gln_coll, member_id)
    out = table.client().update_item(
        TableName=table.table_name(), Key=table.key(pk, sk),
        UpdateExpression="ADD courtesy :one, version :one SET #t = :t, glnColl = :c, memberId = :m",
        ExpressionAttributeNames={"#t": "type"},
        ExpressionAttributeValues={":one": table.val(1), ":t": table.val("patron"), ":c": table.val(gln_coll),
                                   ":m": table.val(member_id)},
        ReturnValues="ALL_NEW")
    return int((table.de(out["Attributes"]) or {})["courtesy"])


def email_key(gln_coll: str, digest: str) -> tuple[str, str]:
    return f"PATRONMAIL#{gln_coll}#{digest}", "EMAIL"


def email_owner(gln_coll: str, digest: str) -> str | None:
    """The member id that gave this address first at this library, if any."""
    item = table.get(*email_key(gln_coll, digest))
    return str(item["memberId"]) if item else None


def email_claim_op(gln_coll: str, digest: str, member_id: str) -> dict[str, Any]:
    """Claim the address for the patron; fails if another patron claimed it meanwhile."""
    pk, sk = email_key(gln_coll, digest)
    item = {"pk": pk, "sk": sk, "type": "patronEmail", "glnColl": gln_coll, "memberId": member_id}
    return {"Put": {"Item": table.ser(item), "ConditionExpression": "attribute_not_exists(pk) OR memberId = :m",
                    "ExpressionAttributeValues": {":m": table.val(member_id)}}}


def listing_op(gln_coll: str, loan_id: str, member_id: str, created_at: datetime) -> dict[str, Any]:
    item = {"pk": f"V1LOANS#{gln_coll}", "sk": f"{iso(created_at)}#{loan_id}", "type": "v1loan",
            "loanId": loan_id, "memberId": member_id}
    return {"Put": {"Item": table.ser(item), "ConditionExpression": "attribute_not_exists(pk)"}}


def _bounds(start: datetime | None, end: datetime | None) -> tuple[str, str]:
    return (iso(start) if start else "0", f"{iso(end)}~" if end else "~")  # key values are never empty


def library_loans(gln_coll: str, start: datetime | None, end: datetime | None, skip: int,
                  count: int) -> tuple[list[dict[str, Any]], bool]:
    """The library's v1 loan items created within [start, end], newest first: `count` of them after the
    first `skip`, and whether more follow. Only the small list items are read to skip; the loans themselves
    are read for the page alone."""
    refs = table.query(None, "pk", f"V1LOANS#{gln_coll}", sk_name="sk", sk_between=_bounds(start, end),
                       forward=False, limit=skip + count + 1)
    page = refs[skip:skip + count]
    from .loans import loan_key

    found = {i["loanId"]: i for i in table.batch_get([loan_key(gln_coll, r["loanId"]) for r in page])}
    return [found[r["loanId"]] for r in page if r["loanId"] in found], len(refs) > skip + count


def member_loans(gln_coll: str, member_id: str, start: datetime | None, end: datetime | None, skip: int,
                 count: int) -> tuple[list[dict[str, Any]], bool]:
    """One patron's loan items created within [start, end], newest first: `count` of them after the first
    `skip`, and whether more follow."""
    items = table.query("gsi4", "gsi4pk", f"MEMBER#{gln_coll}#{member_id}", sk_name="gsi4sk",
                        sk_between=_bounds(start, end), forward=False, limit=skip + count + 1)
    return items[skip:skip + count], len(items) > skip + count
