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
