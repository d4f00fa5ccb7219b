"""The catalogue sync on emulated AWS: S3 feeds, cursors, re-syncs, removals, faults and retries, update
files, and the synced offers as checkAvailability and sendOrder see them."""

from __future__ import annotations

import io
import os
import tempfile
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from onixcheck import validate

from lending.catalogue import connectors, ingest, onix, sync
from lending.domain.dates import iso
from lending.domain.offers import Offer
from lending.domain.values import replace
from lending.local import demo, functions, template
from lending.store import catalogue as store
from lending.store import offers as offer_store
from tests.helpers import line, order_body, pnb
from tests.unit.test_onix import BASIC_TERMS, message, product

pytestmark = pytest.mark.usefixtures("aws")

GLN = demo.DISTRIBUTOR
NEW = "9791000000091"


def s3() -> Any:
    return boto3.client("s3")


def publish(name: str, data: bytes, gln: str = GLN) -> str:
    key = f"feeds/{gln}/{name}"
    s3().put_object(Bucket=os.environ["BUCKET_NAME"], Key=key, Body=data)
    return key


def run(gln: str = GLN, now: datetime | None = None, **kw: Any) -> sync.FeedReport:
    feed = store.feed(gln)
    assert feed is not None
    report = sync.sync_feed(feed, now or datetime.now(UTC), **kw)
    assert not report.busy
    return report


def update_file(name: str, gln: str = GLN) -> list[onix.Notice]:
    body = s3().get_object(Bucket=os.environ["BUCKET_NAME"], Key=f"onix/updates/{gln}/{name}")["Body"].read()
    with tempfile.NamedTemporaryFile(suffix=".xml") as f:  # every update file a test reads is schema-checked
        f.write(body)
        f.flush()
        assert validate(f.name) == []
    rejected: list[onix.Rejected] = []
    notices = list(onix.read(io.BytesIO(body), gln, rejected.append))
    assert rejected == []
    return notices


def check(ean: str, ttc: int = 1500, ht: int = 1422) -> dict[str, Any]:
    answer = pnb(
        "checkAvailability",
        {
            "glnReseller": demo.RESELLER,
            "passwordReseller": demo.RESELLER_PASSWORD,
            "resellerCountry": "FR",
            "collCountry": "FR",
            "checkAvailabilityLine": [
                {
                    "ean13": ean,
                    "glnDistributor": GLN,
                    "unitPrice": ttc,
                    "unitPriceExcludingTax": ht,
                    "currency": "EUR",
                }
            ],
        },
    )
    line_answer: dict[str, Any] = answer["checkAvailabilityResponseLine"][0]
    return line_answer


def test_demo_catalogue_came_through_the_sync() -> None:
    stored = offer_store.get_many([(e, d) for e, d, *_ in demo.CATALOGUE])
    assert {k: replace(v, updated_at="") for k, v in stored.items()} == {
        (o.ean13, o.gln_distributor): o for o in demo.offers()
    }
    st = store.state(GLN)
    assert st.position == f"feeds/{GLN}/{demo.DEMO_FILE}" and st.unfiled == []
    files = store.update_files_since("2000-01-01T00:00:00Z", GLN)
    assert len(files) == 1 and files[0].count == 4
    assert sorted(n.ean13 for n in update_file(files[0].name)) == sorted(
        e for e, d, *_ in demo.CATALOGUE if d == GLN
    )


def test_new_file_is_taken_once_and_only_changes_are_written() -> None:
    publish("20260105T120000Z-delta.xml", message(product(NEW, ref="N1")))
    report = run()
    assert (report.files, report.changed, report.rejected_count) == (
        [f"feeds/{GLN}/20260105T120000Z-delta.xml"],
        1,
        0,
    )
    offer = offer_store.get(NEW, GLN)
    assert offer is not None and offer.title == "Un titre" and offer.price_ttc == 1500
    assert store.state(GLN).position == f"feeds/{GLN}/20260105T120000Z-delta.xml"
    (notice,) = update_file(report.update_files[0])
    assert notice == replace(offer, updated_at="")
    # Nothing new: nothing read, nothing written, no update file.
    again = run()
    assert (again.files, again.changed, again.update_files) == ([], 0, [])
    # The same notice again in a new file (a full re-send): read, but nothing changes.
    publish("20260105T130000Z-full.xml", message(product(NEW, ref="N1")))
    resend = run(now=datetime.now(UTC) + timedelta(minutes=5))
    assert (len(resend.files), resend.changed, resend.update_files) == (1, 0, [])
    stamp = offer_store.get(NEW, GLN)
    assert stamp is not None and stamp.updated_at == offer.updated_at


def test_an_update_file_is_dated_once_uploaded() -> None:
    """A slow upload must not date the file before anyone could find it: a lastConnection call made
    meanwhile would pass it over for ever."""
    publish("20260105T120000Z-slow.xml", message(product(NEW, ref="N1")))
    t0 = datetime.now(UTC).replace(microsecond=0)
    done = t0 + timedelta(minutes=10)  # the upload takes ten minutes
    client = s3()
    real = client.upload_fileobj
    uploaded: list[bool] = []

    def upload(*a: Any, **kw: Any) -> None:
        real(*a, **kw)
        uploaded.append(True)

    client.upload_fileobj = upload
    report = run(now=t0, s3=client, clock=lambda: done if uploaded else t0)
    (f,) = [x for x in store.update_files_since(iso(t0), GLN) if x.name == report.update_files[0]]
    assert f.published_at == iso(done)


def test_changes_flow_to_check_availability_and_send_order() -> None:
    publish("20260105T120000Z-a.xml", message(product(NEW)))
    run()
    assert check(NEW)["checkAvailabilityReturnValue"] == "AVAILABLE"
    assert pnb("sendOrder", order_body(line(NEW, ttc=1500, ht=1422)))["returnStatus"] == "OK"
    # Price up and temporarily unavailable (ProductAvailability 30).
    publish("20260105T130000Z-b.xml", message(product(NEW, availability="30", prices=onix_price(1800, 1706))))
    run()
    answer = check(NEW, 1800, 1706)
    assert (answer["checkAvailabilityReturnValue"], answer["returnMessage"], answer["unitPrice"]) == (
        "UNAVAILABLE",
        "ProductAvailability 30: This product is temporarily unavailable",
        1800,
    )
    refused = pnb("sendOrder", order_body(line(NEW, ttc=1800, ht=1706)))["orderResponseLine"][0]
    assert refused["returnStatus"] == "PRODUCT_CANNOT_BE_SOLD"
    # Back on sale at the new price: the old price is refused, the new one sold.
    publish("20260105T140000Z-c.xml", message(product(NEW, availability="20", prices=onix_price(1800, 1706))))
    run()
    assert pnb("sendOrder", order_body(line(NEW, ttc=1500, ht=1422)))["orderResponseLine"][0][
        "returnStatus"
    ] == ("INVALID_PRICE")
    assert pnb("sendOrder", order_body(line(NEW, ttc=1800, ht=1706)))["returnStatus"] == "OK"


def onix_price(ttc: int, ht: int) -> str:
    return (
        f"<Price><PriceType>04</PriceType><PriceAmount>{ttc / 100:.2f}</PriceAmount>"
        f"<Tax><TaxType>01</TaxType>"
        f"<TaxRatePercent>5.5</TaxRatePercent><TaxableAmount>{ht / 100:.2f}</TaxableAmount></Tax>"
        f"<CurrencyCode>EUR</CurrencyCode></Price>"
    )


def test_removal_marks_the_offer_removed_and_never_deletes_it() -> None:
    removal = (
        "<Product><RecordReference>R</RecordReference><NotificationType>05</NotificationType>"
        "<ProductIdentifier><ProductIDType>15</ProductIDType><IDValue>9791000000022</IDValue>"
        "</ProductIdentifier></Product>"
    )
    unknown = removal.replace("9791000000022", NEW)
    publish("20260105T120000Z-removal.xml", message(removal, unknown))
    report = run()
    assert report.changed == 1  # removing an offer the hub never had changes nothing
    offer = offer_store.get("9791000000022", GLN)
    assert offer is not None and offer.removed and offer.terms.loans == 10 and offer.price_ttc == 1500
    assert offer_store.get(NEW, GLN) is None
    answer = check("9791000000022")
    assert (answer["checkAvailabilityReturnValue"], answer["returnMessage"]) == (
        "UNAVAILABLE",
        "Notification type 05: This product is removed",
    )
    sold = pnb("sendOrder", order_body(line("9791000000022")))["orderResponseLine"][0]
    assert sold["returnStatus"] == "PRODUCT_CANNOT_BE_SOLD"
    (notice,) = update_file(report.update_files[0])
    assert notice == onix.Removal("9791000000022", GLN)
    # A later notice puts it back on sale.
    publish(
        "20260105T130000Z-back.xml",
        message(product("9791000000022", title="<TitleText>De retour</TitleText>")),
    )
    run()
    back = offer_store.get("9791000000022", GLN)
    assert back is not None and not back.removed and back.title == "De retour"


def test_offers_missing_from_a_full_feed_are_kept() -> None:
    publish("20260105T120000Z-full.xml", message(product(NEW)))
    run()
    for ean, dist, *_ in demo.CATALOGUE:
        kept = offer_store.get(ean, dist)
        assert kept is not None and not kept.removed


def test_invalid_records_are_reported_with_their_identifier_and_the_rest_applied() -> None:
    bad_terms = product("9791000000084", terms=BASIC_TERMS.replace("<EpubUsageUnit>10</EpubUsageUnit>", ""))
    publish(
        "20260105T120000Z-mixed.xml", message(product(NEW), bad_terms, product("9791000000092", ref="BAD"))
    )
    report = run()
    assert report.changed == 1 and report.rejected_count == 2
    assert [(r.identifier, r.reason.split(":")[0]) for r in report.rejected] == [
        ("9791000000084", "missing licence terms"),
        ("9791000000092", "ProductIdentifier '9791000000092' is not 13 digits with a valid check digit"),
    ]
    assert offer_store.get("9791000000084", GLN) is None  # never half-applied
    assert store.state(GLN).position == f"feeds/{GLN}/20260105T120000Z-mixed.xml"  # the file is done


def test_a_record_that_once_broke_the_reader_is_reported_and_the_feed_moves_on() -> None:
    """Unicode digits or a non-finite amount used to escape the reader: the distributor's sync failed on
    that file at every run, for ever. Now it is that record's report, and the cursor moves past it."""
    unicode_qty = product("9791000000084", terms=BASIC_TERMS.replace(">10</Quantity>", ">²</Quantity>"))
    snan = product("9791000000077", prices=onix_price(1500, 1422).replace("15.00", "sNaN"))
    too_big = product("9791000000060", prices=onix_price(1500, 1422).replace("15.00", "1E+40"))
    publish("20260105T120000Z-a.xml", message(product(NEW), unicode_qty, snan, too_big, product("9791000000053")))
    report = run()
    assert (report.error, report.held, report.changed, report.rejected_count) == (None, None, 2, 3)
    assert [(r.identifier, r.reason.split(" is ")[0]) for r in report.rejected] == [
        ("9791000000084", "EpubUsageLimit Quantity '²'"),
        ("9791000000077", "PriceAmount 'sNaN'"),
        ("9791000000060", "PriceAmount '1E+40'"),
    ]
    assert offer_store.get(NEW, GLN) and offer_store.get("9791000000053", GLN)
    assert all(offer_store.get(e, GLN) is None for e in ("9791000000084", "9791000000077", "9791000000060"))
    assert store.state(GLN).position == f"feeds/{GLN}/20260105T120000Z-a.xml"
    publish("20260105T130000Z-b.xml", message(product("9791000000084")))  # the distributor's correction
    later = run(now=datetime.now(UTC) + timedelta(seconds=5))
    assert (later.error, later.files, later.changed) == (None, [f"feeds/{GLN}/20260105T130000Z-b.xml"], 1)
    assert offer_store.get("9791000000084", GLN) is not None
    assert store.state(GLN).position == f"feeds/{GLN}/20260105T130000Z-b.xml"


def test_an_offer_the_table_refuses_does_not_sink_its_batch() -> None:
    """A title past DynamoDB's 400 KB item: the rest of its chunk (one BatchWriteItem) is stored."""
    huge = product("9791000000084", title=f"<TitleText>{'x' * 450_000}</TitleText>")
    publish("20260105T120000Z-a.xml", message(product(NEW), huge, product("9791000000077")))
    report = run()
    assert (report.error, report.changed) == (None, 2)
    assert [(r.identifier, r.reason) for r in report.rejected] == [
        ("9791000000084", "the table refused the offer: Item size has exceeded the maximum allowed size")
    ]
    assert offer_store.get(NEW, GLN) and offer_store.get("9791000000077", GLN)
    assert offer_store.get("9791000000084", GLN) is None
    assert sorted(n.ean13 for n in update_file(report.update_files[0])) == ["9791000000077", NEW]
    assert store.state(GLN).position == f"feeds/{GLN}/20260105T120000Z-a.xml"


def test_a_throttled_write_still_fails_the_run_for_a_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a refusal of the item itself is a record's report: any other fault keeps the cursor."""
    from botocore.exceptions import ClientError

    def throttled(offers: Any) -> None:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "BatchWriteItem")

    monkeypatch.setattr(offer_store, "save_many", throttled)
    publish("20260105T120000Z-a.xml", message(product(NEW)))
    report = run()
    assert report.error and "ThrottlingException" in report.error and report.rejected == []
    assert store.state(GLN).position == f"feeds/{GLN}/{demo.DEMO_FILE}"


def test_a_malformed_file_holds_the_feed_until_it_is_replaced() -> None:
    good = message(product(NEW), product("9791000000084"))
    publish("20260105T120000Z-broken.xml", good[: good.index(b"9791000000084") + 30])
    publish("20260105T130000Z-next.xml", message(product("9791000000077")))
    report = run()
    assert (
        report.held is not None
        and "20260105T120000Z-broken.xml" in report.held
        and "well-formed" in report.held
    )
    assert report.changed == 1 and offer_store.get(NEW, GLN) is not None  # complete records before the fault
    assert offer_store.get("9791000000077", GLN) is None  # later files wait: deltas keep their order
    assert store.state(GLN).position == f"feeds/{GLN}/{demo.DEMO_FILE}"
    again = run(now=datetime.now(UTC) + timedelta(seconds=5))
    assert again.held and again.changed == 0  # re-reading rewrites nothing
    publish("20260105T120000Z-broken.xml", good)  # the distributor replaces it
    fixed = run(now=datetime.now(UTC) + timedelta(seconds=10))
    assert fixed.held is None and fixed.changed == 2 and len(fixed.files) == 2
    assert offer_store.get("9791000000084", GLN) and offer_store.get("9791000000077", GLN)
    assert store.state(GLN).position == f"feeds/{GLN}/20260105T130000Z-next.xml"


class _Flaky:
    """A feed whose second file breaks off mid-stream once (a network fault), then reads fine."""

    def __init__(self, real: connectors.S3Prefix) -> None:
        self.real, self.failures = real, 1

    def pending(self, position: str | None, now: datetime) -> connectors.Batch:
        batch = self.real.pending(position, now)
        if self.failures and len(batch.sources) > 1:
            self.failures -= 1
            source = batch.sources[1]

            @contextmanager
            def broken() -> Any:
                with source.open() as stream:
                    yield _BreaksAfter(stream, 600)

            batch.sources[1] = connectors.Source(source.name, broken, source.position)
        return batch


class _BreaksAfter(io.RawIOBase):
    def __init__(self, stream: Any, limit: int) -> None:
        self.stream, self.left = stream, limit

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self.left <= 0:
            raise ConnectionResetError("connection reset by peer")
        data: bytes = self.stream.read(min(n if n > 0 else self.left, self.left))
        self.left -= len(data)
        return data


def test_a_failed_sync_retries_safely_and_files_every_change_once() -> None:
    publish("20260105T120000Z-one.xml", message(product(NEW)))
    publish("20260105T130000Z-two.xml", message(product("9791000000084"), product("9791000000077")))
    feed = store.feed(GLN)
    assert feed is not None
    flaky = _Flaky(connectors.S3Prefix(os.environ["BUCKET_NAME"], feed.prefix))
    first = run(connector=flaky)
    assert first.error and "ConnectionResetError" in first.error
    assert first.files == [f"feeds/{GLN}/20260105T120000Z-one.xml"]
    assert store.state(GLN).position == f"feeds/{GLN}/20260105T120000Z-one.xml"
    assert store.state(GLN).unfiled == []  # its changes were filed even though it failed
    retry = run(connector=flaky, now=datetime.now(UTC) + timedelta(seconds=5))
    assert retry.error is None and retry.files == [f"feeds/{GLN}/20260105T130000Z-two.xml"]
    filed = [n.ean13 for name in first.update_files + retry.update_files for n in update_file(name)]
    assert sorted(filed) == sorted([NEW, "9791000000084", "9791000000077"])


def test_a_run_that_died_before_publishing_is_filed_by_the_next() -> None:
    dead = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    st = store.state(GLN)
    st.unfiled.append("2026-01-05T12:00:00Z")
    store.save_state(GLN, st, st.version)
    offer = next(n for n in onix.read(io.BytesIO(message(product(NEW))), GLN))
    assert isinstance(offer, Offer)
    ingest.apply([offer], dead)  # what the dead run had written
    report = run()
    assert len(report.update_files) == 1 and store.state(GLN).unfiled == []
    assert [n.ean13 for n in update_file(report.update_files[0])] == [NEW]


def test_one_sync_per_distributor_at_a_time() -> None:
    now = datetime.now(UTC)
    assert store.take_lease(GLN, "someone", sync_now := sync.iso(now), sync.iso(now + timedelta(minutes=5)))
    feed = store.feed(GLN)
    assert feed is not None
    assert sync.sync_feed(feed, now).busy
    # A lease left by a crashed run lapses.
    assert not sync.sync_feed(feed, now + timedelta(minutes=6)).busy
    assert sync_now


def test_the_scheduled_function_syncs_every_feed() -> None:
    publish("20260105T120000Z-a.xml", message(product(NEW)))
    publish(
        "20260105T120000Z-b.xml",
        message(product("9791000000084", supplier=demo.DISTRIBUTOR2)),
        gln=demo.DISTRIBUTOR2,
    )
    fns = template.functions(template.load())
    out = functions.invoke(fns["CatalogueSyncFunction"], {"source": "aws.scheduler", "detail": {}})
    by_gln = {f["glnDistributor"]: f for f in out["feeds"]}
    assert by_gln[GLN]["changed"] == 1 and by_gln[demo.DISTRIBUTOR2]["changed"] == 1
    assert offer_store.get("9791000000084", demo.DISTRIBUTOR2) is not None
    only = functions.invoke(fns["CatalogueSyncFunction"], {"detail": {"glnDistributor": GLN}})
    assert [f["glnDistributor"] for f in only["feeds"]] == [GLN]


def test_an_offer_changed_twice_in_one_run_is_one_notice_in_its_final_state() -> None:
    publish("20260105T120000Z-a.xml", message(product(NEW)))
    publish("20260105T130000Z-b.xml", message(product(NEW, availability="30"), product("9791000000084")))
    report = run()
    assert report.changed == 3 and len(report.files) == 2
    notices = update_file(report.update_files[0])
    assert [n.ean13 for n in notices] == ["9791000000084", NEW]  # a repeated offer comes last, as it ends
    assert isinstance(notices[1], Offer) and notices[1].availability == "30"


def test_gzipped_files_are_read_and_other_objects_passed_over() -> None:
    import gzip

    publish("20260105T120000Z-a.xml.gz", gzip.compress(message(product(NEW))))
    publish("20260105T120500Z-readme.txt", b"not an ONIX file")
    publish("20260105T130000Z-b.onix", message(product("9791000000084")))
    report = run()
    assert report.held is None and report.changed == 2
    assert report.files == [f"feeds/{GLN}/20260105T120000Z-a.xml.gz", f"feeds/{GLN}/20260105T130000Z-b.onix"]
