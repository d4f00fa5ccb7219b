"""End to end on the local stack over HTTP: a new offer appears in a distributor's feed, the scheduled
sync runs, getOffers answers a link whose ONIX file (downloaded with an HTTP client, through the hub's
redirect to the emulated S3) holds it, and a reseller orders it."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import requests

from lending.catalogue import onix
from lending.local import demo
from tests.helpers import iso, line, order_body
from tests.unit.test_onix import message, product

pytestmark = pytest.mark.e2e

NEW = "9791000000114"


def call(stack: Any, service: str, body: dict[str, Any]) -> dict[str, Any]:
    r = requests.post(f"{stack.url}/v2/pnb-numerique/{service}", json=body, timeout=30)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


def test_new_offer_synced_published_and_ordered(stack: Any) -> None:
    since = iso(datetime.now(UTC) - timedelta(seconds=2))
    boto3.client("s3").put_object(
        Bucket=os.environ["BUCKET_NAME"],
        Key=f"feeds/{demo.DISTRIBUTOR}/20260105T120000Z-e2e.xml",
        Body=message(product(NEW, title="<TitleText>Nouveau titre</TitleText>")),
    )
    out = stack.run_schedule("CatalogueSyncFunction")
    mine = next(f for f in out["feeds"] if f["glnDistributor"] == demo.DISTRIBUTOR)
    assert mine["changed"] == 1 and mine["error"] is None and mine["updateFiles"]

    reseller = {"glnReseller": demo.RESELLER, "passwordReseller": demo.RESELLER_PASSWORD}
    answer = call(
        stack, "getOffersForDistributor", {**reseller, "glnDistributor": demo.DISTRIBUTOR, "sinceDate": since}
    )
    assert answer["returnStatus"] == "OK", answer
    found: list[onix.Notice] = []
    for entry in answer["onixFileUrl"]:
        r = requests.get(entry["httpLinks"], timeout=30)  # 302 to a presigned URL on the emulator
        assert r.status_code == 200 and r.history and r.history[0].status_code == 302
        assert r.url.startswith(os.environ["AWS_ENDPOINT_URL"])
        found.extend(onix.read(io.BytesIO(r.content), demo.DISTRIBUTOR))
    offer = next(n for n in found if n.ean13 == NEW)
    assert isinstance(offer, onix.Offer) and offer.title == "Nouveau titre" and offer.price_ttc == 1500

    ordered = call(stack, "sendOrder", {**order_body(line(NEW, ttc=1500, ht=1422))})
    assert ordered["returnStatus"] == "OK", ordered
    assert ordered["orderResponseLine"][0]["returnStatus"] == "OK"


@pytest.mark.race
def test_last_connection_limit_holds_under_concurrent_calls(stack: Any) -> None:
    """Twelve lastConnection calls at once (the gateway runs them in parallel, the emulator serialises
    each DynamoDB request): the versioned rate log lets exactly five through."""
    from concurrent.futures import ThreadPoolExecutor

    caller = {"glnReseller": demo.COLL2, "passwordReseller": demo.COLL2_PASSWORD}
    first = call(stack, "getOffers", {**caller, "sinceDate": iso(datetime.now(UTC) - timedelta(hours=1))})
    assert first["returnStatus"] == "OK"
    with ThreadPoolExecutor(max_workers=12) as pool:
        body = {**caller, "lastConnection": ""}
        answers = list(pool.map(lambda _: call(stack, "getOffers", body), range(12)))
    statuses = sorted(a["returnStatus"] for a in answers)
    assert statuses == ["ACCES_DENIED"] * 7 + ["OK"] * 5, answers
    assert {a["returnMessage"] for a in answers if a["returnStatus"] == "ACCES_DENIED"} == {
        "Only 5 last connection requests are allowed within the previous 24 hours"}
