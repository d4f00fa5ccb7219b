"""Offers of the catalogue, keyed by EAN and distributor, indexed by distributor and update time."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ..domain.offers import LicenceTerms, Offer
from . import table


def _item(o: Offer) -> dict[str, Any]:
    t = o.terms
    return {
        "pk": f"OFFER#{o.ean13}",
        "sk": f"DIST#{o.gln_distributor}",
        "type": "offer",
        "gsi1pk": f"DIST#{o.gln_distributor}",
        "gsi1sk": f"{o.updated_at}#{o.ean13}",
        "ean13": o.ean13,
        "glnDistributor": o.gln_distributor,
        "title": o.title,
        "publisher": o.publisher,
        "contributors": list(o.contributors) or None,
        "formats": list(o.formats) or None,
        "priceTtc": o.price_ttc,
        "priceHt": o.price_ht,
        "currency": o.currency,
        "taxRate": o.tax_rate,
        "availability": o.availability,
        "removed": o.removed,
        "updatedAt": o.updated_at,
        "terms": {
            "loans": t.loans,
            "downloads": t.downloads,
            "onsiteStreams": t.onsite_streams,
            "offsiteStreams": t.offsite_streams,
            "licenceDays": t.licence_days,
            "maxLoanDays": t.max_loan_days,
        },
    }


def _offer(item: dict[str, Any]) -> Offer:
    t = item["terms"]
    return Offer(
        ean13=item["ean13"],
        gln_distributor=item["glnDistributor"],
        title=item.get("title", ""),
        terms=LicenceTerms(
            loans=t["loans"],
            downloads=t["downloads"],
            onsite_streams=t["onsiteStreams"],
            offsite_streams=t["offsiteStreams"],
            licence_days=t["licenceDays"],
            max_loan_days=t["maxLoanDays"],
        ),
        price_ttc=item["priceTtc"],
        price_ht=item["priceHt"],
        currency=item.get("currency", "EUR"),
        tax_rate=item.get("taxRate"),
        availability=item.get("availability", "20"),
        removed=bool(item.get("removed")),
        publisher=item.get("publisher", ""),
        contributors=tuple(item.get("contributors") or ()),
        formats=tuple(item.get("formats") or ()),
        updated_at=item.get("updatedAt", ""),
    )


def save(offer: Offer) -> None:
    table.put(_item(offer))


def save_many(offers: Iterable[Offer]) -> None:
    """Many offers in BatchWriteItem requests (the catalogue sync)."""
    table.batch_put([_item(o) for o in offers])


def get(ean13: str, gln_distributor: str) -> Offer | None:
    item = table.get(f"OFFER#{ean13}", f"DIST#{gln_distributor}", consistent=False)
    return _offer(item) if item else None


def get_many(pairs: list[tuple[str, str]]) -> dict[tuple[str, str], Offer]:
    items = table.batch_get([(f"OFFER#{e}", f"DIST#{d}") for e, d in pairs])
    return {(i["ean13"], i["glnDistributor"]): _offer(i) for i in items}


def changed_since(gln_distributor: str, since: str) -> list[Offer]:
    items = table.query("gsi1", "gsi1pk", f"DIST#{gln_distributor}", sk_name="gsi1sk", sk_between=(since, "~"))
    return [_offer(i) for i in items]


def stamped(gln_distributor: str, updated_at: str) -> Iterator[Offer]:
    """The distributor's offers whose last change is stamped `updated_at`, page by page (bounded memory)."""
    args: dict[str, Any] = {
        "TableName": table.table_name(), "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :p AND gsi1sk BETWEEN :a AND :b",
        "ExpressionAttributeValues": {":p": table.val(f"DIST#{gln_distributor}"),
                                      ":a": table.val(f"{updated_at}#"), ":b": table.val(f"{updated_at}#~")},
    }
    for item in table.pages("query", args):  # hydrated: gsi1 is KEYS_ONLY
        yield _offer(item)


def of_distributor(gln_distributor: str) -> list[Offer]:
    """Every offer of a distributor (its console's list), the last changed first."""
    items = table.query("gsi1", "gsi1pk", f"DIST#{gln_distributor}")
    return sorted((_offer(i) for i in items), key=lambda o: o.updated_at, reverse=True)
