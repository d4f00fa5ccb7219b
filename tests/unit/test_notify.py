"""The pure parts of early-return callbacks: the event and its body, the signature, the SSRF guard,
the retry schedule. No sockets (DNS answers come from a fake resolver)."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from typing import Any

import pytest

from lending.notify import delivery, events, guard, signing

OUTBOX_ITEM: dict[str, Any] = {
    "pk": "OUTBOX#ev-1", "sk": "OUTBOX", "eventId": "ev-1", "url": "https://ils.example/returns",
    "glnColl": "3012345000031", "createdAt": "2026-03-01T10:00:00Z",
    "body": {"event": "loan.returned", "loanId": "L1", "orderLineId": "000000000000000000000042",
             "ean13": "9791000000015", "returnDate": "2026-03-01T10:00:00Z", "memberId": "M-77"},
}


def test_event_travels_unchanged_from_outbox_to_message_to_body() -> None:
    event = events.from_outbox(OUTBOX_ITEM)
    again = events.from_message(event.message())
    assert again == event
    assert json.loads(event.body()) == OUTBOX_ITEM["body"]
    assert event.body() == again.body()  # the same bytes on every try: the same signature


@pytest.mark.parametrize("extra", [{}, {"memberId": "M-77"}, {"borrowerId": "B", "transactionId": "T", "other": "x"}])
def test_a_returned_loan_carries_its_event_and_every_copy_is_the_same(extra: dict[str, Any]) -> None:
    """The return writes its event on the loan item (store.loans.end): the table's stream hands that write
    (its new image, in DynamoDB's types) to the delivery, and the sweeper reads the item back: both give
    the contract's body, byte for byte, with only the door's own ids from the loan's extra."""
    from datetime import UTC, datetime

    from lending.domain.licences import Pool
    from lending.domain.loans import Loan, LoanState
    from lending.domain.values import replace
    from lending.services import lending
    from lending.store import loans, table

    when = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    loan = Loan("3012345000031", "L1", "0" * 22 + "42", "9791000000015", "0" * 13, Pool.DOWNLOAD,
                datetime(2026, 2, 20, tzinfo=UTC), datetime(2026, 3, 20, tzinfo=UTC),
                callback_url="https://ils.example/returns", extra=extra)
    sent = lending._outbox(loan, when)
    assert sent is not None and set(sent) == {"eventId"}
    item = {**loans._item(replace(loan, state=LoanState.RETURNED, returned_at=when)),
            "callbackEventId": sent["eventId"]}
    streamed = table.de(table.ser(item)) or {}  # the stream record's NewImage, deserialised
    event = events.from_outbox(streamed)
    assert event.message() == events.from_outbox(item).message()
    assert (event.event_id, event.loan_id, event.url) == (sent["eventId"], "L1", "https://ils.example/returns")
    assert json.loads(event.body()) == {"event": "loan.returned", "loanId": "L1", "orderLineId": "0" * 22 + "42",
                                        "ean13": "9791000000015", "returnDate": "2026-03-01T10:00:00Z",
                                        **{k: v for k, v in extra.items() if k != "other"}}


def test_body_carries_only_the_contract_fields() -> None:
    item = {**OUTBOX_ITEM, "body": {**OUTBOX_ITEM["body"], "email": "reader@example.org", "name": "A. Reader",
                                    "borrowerId": "B-1", "transactionId": "T-9"}}
    payload = json.loads(events.from_outbox(item).body())
    assert set(payload) == {"event", "loanId", "orderLineId", "ean13", "returnDate", "memberId", "borrowerId",
                            "transactionId"}


@pytest.mark.parametrize("text", [
    "", "not json", "[]", json.dumps({"eventId": "e"}),
    json.dumps({"eventId": "e", "glnColl": "g", "loanId": "L1", "url": "http://x/", "payload": "nope"}),
    json.dumps({"eventId": "e", "glnColl": "g", "loanId": "L1", "url": "http://x/",
                "payload": {"event": "loan.returned", "loanId": "L1"}}),  # fields missing
    json.dumps({"eventId": "e", "glnColl": "g", "loanId": "L2", "url": "http://x/",
                "payload": {**OUTBOX_ITEM["body"]}}),  # payload of another loan
    json.dumps({"eventId": "", "glnColl": "g", "loanId": "L1", "url": "http://x/",
                "payload": OUTBOX_ITEM["body"]}),
    "x" * 20_000,
])
def test_malformed_messages_are_poison(text: str) -> None:
    with pytest.raises(events.Poison):
        events.from_message(text)


def test_signature_is_hmac_sha256_of_the_exact_body() -> None:
    body = b'{"event":"loan.returned","loanId":"L1"}'
    expected = hmac.new(b"cbDemoSecret2026", body, hashlib.sha256).hexdigest()
    assert signing.sign("cbDemoSecret2026", body) == f"sha256={expected}"
    assert signing.verify("cbDemoSecret2026", body, f"sha256={expected}")
    assert not signing.verify("cbDemoSecret2026", body + b" ", f"sha256={expected}")
    assert not signing.verify("another", body, f"sha256={expected}")
    assert not signing.verify("cbDemoSecret2026", body, None)


def resolver(*addresses: str) -> Any:
    def resolve(host: str, port: int, type: int = 0) -> list[Any]:
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses]
    return resolve


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.9.9.9", "::1", "10.0.0.5", "172.16.3.4", "192.168.1.1", "169.254.169.254", "fe80::1",
    "fd00::1", "100.64.0.1", "0.0.0.0", "::", "224.0.0.1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "240.0.0.1",
    # IPv4 inside IPv6: NAT64 (well-known and local-use prefixes), IPv4-compatible, 6to4, Teredo
    "64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1", "64:ff9b:1::a00:1", "::7f00:1", "::a9fe:a9fe", "2002:a9fe:a9fe::1",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",
])
def test_private_loopback_link_local_addresses_are_refused(address: str) -> None:
    with pytest.raises(guard.UnsafeUrl):
        guard.check("https://ils.example/returns", loopback=False, resolve=resolver(address))


def test_a_public_ipv4_inside_ipv6_passes() -> None:
    for address in ("64:ff9b::5db8:d822", "::ffff:93.184.216.34", "2002:5db8:d822::1"):
        assert guard.check("https://ils.example/", loopback=False, resolve=resolver(address)).address == address


def test_one_bad_address_among_good_ones_is_enough_to_refuse() -> None:
    with pytest.raises(guard.UnsafeUrl):
        guard.check("https://ils.example/", loopback=False, resolve=resolver("93.184.216.34", "10.0.0.1"))


def test_public_address_passes_and_is_the_one_connected_to() -> None:
    target = guard.check("https://ils.example:8443/cb/returns?lib=7", loopback=False,
                         resolve=resolver("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"))
    assert target == guard.Target("https", "ils.example", 8443, "/cb/returns?lib=7", "93.184.216.34")


def test_local_stack_allows_loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_LOCAL", "1")
    assert guard.check("http://localhost:8099/x", resolve=resolver("127.0.0.1")).address == "127.0.0.1"
    with pytest.raises(guard.UnsafeUrl):
        guard.check("http://metadata/x", resolve=resolver("169.254.169.254"))
    monkeypatch.delenv("HUB_LOCAL")
    with pytest.raises(guard.UnsafeUrl):
        guard.check("http://localhost:8099/x", resolve=resolver("127.0.0.1"))


@pytest.mark.parametrize("url", ["ftp://ils.example/x", "file:///etc/passwd", "http:///nohost",
                                 "https://u:p@ils.example/", "http://ils.example:99999/", "gopher://ils.example/"])
def test_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(guard.UnsafeUrl):
        guard.check(url, loopback=False, resolve=resolver("93.184.216.34"))


def test_unresolvable_host_is_worth_a_retry() -> None:
    with pytest.raises(guard.ResolveFailed):
        guard.check("https://nowhere.example/", loopback=False, resolve=resolver())


def test_retry_delays_grow_and_are_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    schedule = [delivery.delay_after(n, jitter=0) for n in range(1, 8)]
    assert schedule == [60, 300, 1800, 7200, 21600, 21600, 21600]
    assert all(54 <= delivery.delay_after(1) <= 66 for _ in range(100))  # +-10% jitter
    monkeypatch.setenv("CALLBACK_RETRY_DELAYS", "1, 2,4")
    assert delivery.retry_delays() == [1, 2, 4]
    assert [delivery.delay_after(n, jitter=0) for n in (1, 2, 3, 4)] == [1, 2, 4, 4]


@pytest.mark.parametrize("url", ["http://ils.example/a b", "http://ils.example/a\r\nX-Injected: 1",
                                 "http://ils.example/\x7f"])
def test_urls_with_spaces_or_control_characters_are_refused(url: str) -> None:
    with pytest.raises(guard.UnsafeUrl):
        guard.check(url, loopback=False, resolve=resolver("93.184.216.34"))


def test_delivery_state_lives_on_the_loan_item() -> None:
    from lending.store import callbacks, loans

    assert callbacks.loan_key("3012345000031", "L1") == loans.loan_key("3012345000031", "L1")


def test_a_batch_reports_only_the_records_that_raised() -> None:
    import threading

    from lending.notify import batch

    class Keep(Exception):
        pass

    seen: set[str] = set()
    lock = threading.Lock()

    def handler(record: Any) -> None:
        with lock:
            seen.add(record["messageId"])
        if record["body"] == "keep":
            raise Keep()
        if record["body"] == "bug":
            raise RuntimeError("a reader bug")

    records = [{"messageId": f"m{i}", "body": body} for i, body in enumerate(["ok", "keep", "bug", "ok"])]
    assert batch.process({"Records": records}, handler, expected=(Keep,)) == {
        "batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]}
    assert seen == {"m0", "m1", "m2", "m3"}
    assert batch.process({"Records": records[:1]}, handler) == {"batchItemFailures": []}
    assert batch.process({}, handler) == {"batchItemFailures": []}
