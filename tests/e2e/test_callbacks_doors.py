"""Every door's early return reaches the library system's listener: the library API v1 DELETE
(`return_url`) and the warehouse return (`notify_url`), signed with the collectivity's secret and
carrying the door's own ids (CONTRACT 6)."""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest
import requests

from lending.local import demo
from lending.local.receiver import Receiver
from lending.notify.signing import verify
from tests.helpers import coll_auth, line, order_body

pytestmark = pytest.mark.e2e
_ids = itertools.count(1)


def _licence(stack: Any) -> str:
    """A fresh licence of 9791000000015 for the demo collectivity; its loanUrl."""
    ref = f"CBD{next(_ids)}{int(time.time() * 1000) % 10**9}"[:16]
    answer = requests.post(f"{stack.url}/v2/pnb-numerique/sendOrder", json=order_body(line(), orderIdColl=ref),
                           timeout=10).json()
    assert answer["returnStatus"] == "OK", answer
    shown = requests.post(f"{stack.url}/v2/pnb-numerique/getOrders", json={**coll_auth(), "orderIdColl": ref},
                          timeout=10).json()
    return str(shown["getOrderResponseLine"][0]["orderLine"][0]["loanUrl"])


def test_warehouse_return_notifies_notify_url(stack: Any) -> None:
    with Receiver(secret=demo.COLL_CALLBACK_SECRET) as rx:
        loan_url = _licence(stack)
        ids = {"borrower_id": f"reader{next(_ids)}", "transaction_id": f"tx{next(_ids)}"}
        lent = requests.post(loan_url, data={**ids, "duration": "7", "notify_url": f"{rx.url}/notify"}, timeout=10)
        assert lent.status_code == 201, lent.text
        back = requests.delete(lent.headers["Link"].split(">")[0][1:], timeout=10)  # its rel="return"
        assert back.status_code == 204
        got = rx.wait_for(lambda r: len(r) >= 1, timeout=15)
        assert len(got) == 1 and got[0].path == "/notify" and got[0].answered == 200
        assert got[0].signed and verify(demo.COLL_CALLBACK_SECRET, got[0].body, got[0].headers["x-signature"])
        body = got[0].json()
        assert body["event"] == "loan.returned" and body["ean13"] == "9791000000015"
        assert (body["borrowerId"], body["transactionId"]) == (ids["borrower_id"], ids["transaction_id"])


def test_v1_return_on_the_patrons_behalf_notifies_return_url(stack: Any) -> None:
    with Receiver(secret=demo.COLL_CALLBACK_SECRET) as rx:
        _licence(stack)
        member = f"patron{next(_ids)}"
        headers = {"X-Api-Key": demo.COLL_API_KEY}
        made = requests.post(f"{stack.url}/v1/media/9791000000015/loans.json", headers=headers,
                             data={"member_id": member, "return_url": f"{rx.url}/returned"}, timeout=10)
        assert made.status_code == 201, made.text
        loan_id = made.json()["id"]
        back = requests.delete(f"{stack.url}/v1/loans/{loan_id}.json", headers=headers, timeout=10)
        assert back.status_code == 200, back.text
        got = rx.wait_for(lambda r: len(r) >= 1, timeout=15)
        assert len(got) == 1 and got[0].path == "/returned" and got[0].signed
        body = got[0].json()
        assert body["event"] == "loan.returned" and body["memberId"] == member
        assert "borrowerId" not in body and "email" not in body  # nothing personal beyond the member id
