"""Readium LCP: protected publications, licences and their device events.

- publication  LCPPUB#<ean13> / LCPPUB: the content key wrapped by the key service (KMS deployed), the
  protected EPUB's S3 key, length and SHA-256. Written once: a publication is never re-encrypted.
- licence      LCPL#<licenceId> / LCPL: the signed licence document and its `rightsEnd` (the loan's end
  it carries: re-signed when the loan is renewed), the loan it belongs to, the device events (register,
  renew, return), `registered` (device ids) and `returnedBy`.
- pointer      LOAN#<glnColl>#<loanId> / LCPL: the loan's licence id, beside the loan in its partition.
  Written with the licence in one transaction, conditioned on absence: one licence per loan however
  many requests race."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from ..domain.dates import from_store, iso
from ..domain.values import Record, Value
from ..lcp.status import Event, EventType
from . import table
from .loans import loan_key


class PublicationRecord(Value):
    ean13: str
    wrapped_key: str
    object_key: str
    length: int
    sha256: str
    created_at: str

    def __init__(self, ean13: str, wrapped_key: str, object_key: str, length: int, sha256: str,
                 created_at: str) -> None:
        self._init(ean13, wrapped_key, object_key, length, sha256, created_at)


class LicenceRecord(Record):
    licence_id: str
    gln_coll: str
    loan_id: str
    doc: dict[str, Any]
    issued: datetime
    updated: datetime
    events: list[Event]
    returned_by: str | None

    def __init__(self, licence_id: str, gln_coll: str, loan_id: str, doc: dict[str, Any], issued: datetime,
                 updated: datetime, events: list[Event] | None = None, returned_by: str | None = None) -> None:
        self._init(licence_id, gln_coll, loan_id, doc, issued, updated, [] if events is None else events, returned_by)


def _pub_key(ean13: str) -> tuple[str, str]:
    return f"LCPPUB#{ean13}", "LCPPUB"


def _licence_key(licence_id: str) -> tuple[str, str]:
    return f"LCPL#{licence_id}", "LCPL"


def publication(ean13: str) -> PublicationRecord | None:
    item = table.get(*_pub_key(ean13), consistent=False)
    if item is None:
        return None
    return PublicationRecord(ean13, item["wrappedKey"], item["objectKey"], int(item["length"]), item["sha256"],
                             item["createdAt"])


def put_publication(rec: PublicationRecord) -> bool:
    """False when the publication was already protected (the first protection stands)."""
    pk, sk = _pub_key(rec.ean13)
    try:
        table.put({"pk": pk, "sk": sk, "type": "lcp_publication", "ean13": rec.ean13, "wrappedKey": rec.wrapped_key,
                   "objectKey": rec.object_key, "length": rec.length, "sha256": rec.sha256,
                   "createdAt": rec.created_at}, condition="attribute_not_exists(pk)")
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _event(raw: dict[str, Any]) -> Event:
    return Event(EventType(raw["type"]), raw.get("id", ""), raw.get("name", ""),
                 from_store(raw["at"]))  # type: ignore[arg-type]


def _record(item: dict[str, Any]) -> LicenceRecord:
    return LicenceRecord(
        licence_id=item["licenceId"], gln_coll=item["glnColl"], loan_id=item["loanId"], doc=json.loads(item["doc"]),
        issued=from_store(item["issued"]), updated=from_store(item["updated"]),  # type: ignore[arg-type]
        events=[_event(e) for e in item.get("events") or []], returned_by=item.get("returnedBy"))


def licence(licence_id: str) -> LicenceRecord | None:
    item = table.get(*_licence_key(licence_id))
    return _record(item) if item else None


def licence_of_loan(gln_coll: str, loan_id: str) -> LicenceRecord | None:
    pointer = table.get(loan_key(gln_coll, loan_id)[0], "LCPL")
    return licence(pointer["licenceId"]) if pointer else None


def put_licence(rec: LicenceRecord) -> LicenceRecord:
    """Store a new licence for its loan; the loan's existing licence when another request made it first."""
    pk, sk = _licence_key(rec.licence_id)
    loan_pk, _ = loan_key(rec.gln_coll, rec.loan_id)
    try:
        table.transact([
            {"Put": {"Item": table.ser({"pk": loan_pk, "sk": "LCPL", "type": "lcp_pointer",
                                        "licenceId": rec.licence_id}),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"Item": table.ser({"pk": pk, "sk": sk, "type": "lcp_licence", "licenceId": rec.licence_id,
                                        "glnColl": rec.gln_coll, "loanId": rec.loan_id,
                                        "doc": json.dumps(rec.doc, separators=(",", ":")),
                                        "issued": iso(rec.issued), "updated": iso(rec.updated), "events": [],
                                        "rightsEnd": rec.doc.get("rights", {}).get("end", "")}),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
        ])
    except table.TransactionFailed:
        existing = licence_of_loan(rec.gln_coll, rec.loan_id)
        if existing is None:
            raise
        return existing
    return rec


class EventRefused(Exception):
    """The event's condition failed: already registered, already returned."""


def _append_event(licence_id: str, event: Event, sets: dict[str, Any], condition: str,
                  values: dict[str, Any], adds: dict[str, str] | None = None) -> None:
    pk, sk = _licence_key(licence_id)
    names = {"#events": "events", **{f"#{k}": k for k in sets}}
    vals = {":ev": table.val([{"type": event.type.value, "id": event.device_id, "name": event.device_name,
                               "at": iso(event.at)}]), **{f":{k}": table.val(v) for k, v in sets.items()}}
    vals.update({k: table.val(v) if not isinstance(v, set) else {"SS": sorted(v)} for k, v in values.items()})
    expr = "SET #events = list_append(#events, :ev)" + "".join(f", #{k} = :{k}" for k in sets)
    if adds:
        names.update({f"#{k}": k for k in adds})
        expr += " ADD " + ", ".join(f"#{k} {v}" for k, v in adds.items())
    try:
        table.client().update_item(TableName=table.table_name(), Key=table.key(pk, sk), UpdateExpression=expr,
                                   ConditionExpression=condition, ExpressionAttributeNames=names,
                                   ExpressionAttributeValues=vals)
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise EventRefused(event.type.value) from None
        raise


def register(licence_id: str, event: Event) -> bool:
    """Record a device's registration; False when that device had already registered (nothing added)."""
    try:
        _append_event(licence_id, event, {}, "attribute_exists(pk) AND NOT contains(#registered, :dev)",
                      {":dev": event.device_id, ":devset": {event.device_id}}, adds={"registered": ":devset"})
    except EventRefused:
        return False
    return True


def mark_returned(licence_id: str, event: Event) -> bool:
    """Record the return by a device: only the first return counts; False when one was recorded already."""
    try:
        _append_event(licence_id, event, {"returnedBy": event.device_id}, "attribute_not_exists(returnedBy)", {})
    except EventRefused:
        return False
    return True


def add_event(licence_id: str, event: Event) -> None:
    """Record a device's event with no condition of its own (a renewal: the loan's transaction decided it)."""
    _append_event(licence_id, event, {}, "attribute_exists(pk)", {})


def follow(licence_id: str, doc: dict[str, Any], rights_end: str, now: datetime) -> bool:
    """Store the licence re-signed with its loan's new end (`rights_end`, ISO). Ends only move later: a
    writer holding an earlier end than the one stored loses (False), so racing readers never undo a renewal."""
    pk, sk = _licence_key(licence_id)
    try:
        table.client().update_item(
            TableName=table.table_name(), Key=table.key(pk, sk),
            UpdateExpression="SET #doc = :doc, #updated = :updated, #rightsEnd = :end",
            ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(#rightsEnd) OR #rightsEnd < :end)",
            ExpressionAttributeNames={"#doc": "doc", "#updated": "updated", "#rightsEnd": "rightsEnd"},
            ExpressionAttributeValues={":doc": table.val(json.dumps(doc, separators=(",", ":"))),
                                       ":updated": table.val(iso(now)), ":end": table.val(rights_end)})
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True
