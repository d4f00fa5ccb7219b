"""sendOrder, cancelOrder, checkAvailability, getOrders: every rule and return code, on emulated AWS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lending.domain.values import replace
from lending.local import demo
from lending.store import offers
from tests.helpers import coll_auth, invoke, iso, line, order_body, order_ok, pnb

pytestmark = pytest.mark.usefixtures("aws")


def test_send_order_creates_licences_with_offer_terms() -> None:
    dmd = datetime.now(UTC) - timedelta(days=2)
    body = order_body(
        line(dmd=dmd, lineReference="R1", lineReferenceColl="RC1"), line("9791000000022", dmd=dmd), orderIdColl="MINE42"
    )
    answer = pnb("sendOrder", body)
    assert answer["returnStatus"] == "OK"
    assert "returnMessage" not in answer
    first, second = answer["orderResponseLine"]
    assert first["returnStatus"] == "OK" and first["lineReference"] == "R1"
    assert len(first["orderLineId"]) == 24 and first["orderLineId"].isdigit()
    assert first["orderLineId"] != second["orderLineId"]
    orders = pnb("getOrders", {**coll_auth(), "orderIdColl": "MINE42"})
    assert orders["returnStatus"] == "OK" and "noOrder" not in orders
    by_ean = {x["orderLine"][0]["ean13"]: x for x in orders["getOrderResponseLine"]}
    l15 = by_ean["9791000000015"]["orderLine"][0]
    assert by_ean["9791000000015"]["lineReferenceColl"] == "RC1"
    assert (l15["nus1"], l15["nus2"], l15["nta"]) == (2, 2, 30)
    assert l15["endDate"] == iso(dmd + timedelta(days=3650))
    assert "beginDate" not in l15 and "endOfferDate" not in l15
    assert l15["loanUrl"].startswith("http://hub.test/warehouse/licences/")
    l22 = by_ean["9791000000022"]["orderLine"][0]
    assert (l22["nus1"], l22["nus2"], l22["nta"]) == (1, 0, 10)


def test_line_errors_roll_up_to_warning_and_are_kept() -> None:
    body = order_body(
        line(),
        line(),  # same EAN twice in one order
        line(demo.UNKNOWN_EAN),
        line("9791000000046"),  # ProductAvailability 40
        line("9791000000022", ttc=1400, ht=1300),  # not the offer's price
        line("9791000000039", ht=1000),  # HT above TTC
        line("9791000000053", dist=demo.DISTRIBUTOR2, quantity=2),
        line("9791000000053", dist="3012345000017"),  # a GLN that is not a distributor
        {**line("9791000000053", dist=demo.DISTRIBUTOR2), "ean13": "9791000000054"},  # bad check digit
        line("9791000000053", dist=demo.DISTRIBUTOR2, currency="USD"),
        orderIdColl="ERRS",
    )
    answer = pnb("sendOrder", body)
    assert answer["returnStatus"] == "WARNING"
    assert answer["returnMessage"] == "Some sendOrder lines are returned with error"
    got = [(x["returnStatus"], x.get("returnMessage", "")) for x in answer["orderResponseLine"]]
    assert got[0] == ("OK", "")
    assert got[1] == ("DUPLICATED", f"The ean 9791000000015 is duplicated for glnDistributeur {demo.DISTRIBUTOR}")
    assert got[2] == (
        "NOT_FOUND",
        f"The EAN13 {demo.UNKNOWN_EAN} does not exist for Distributor GLN {demo.DISTRIBUTOR}",
    )
    assert got[3] == ("PRODUCT_CANNOT_BE_SOLD", "The product can not be sold")
    assert got[4] == ("INVALID_PRICE", "Invalid price")
    assert got[5] == ("INVALID_ARGUMENTS", "unitPriceWithoutTax is invalid : cannot be higher than unitPrice")
    assert got[6] == ("INVALID_ARGUMENTS", "The parameter quantity is invalid. The quantity is limited to 1")
    assert got[7] == ("UNKNOWN_GLN", "Unsupported GlnDistributeur")
    assert got[8][0] == "INVALID_ARGUMENTS" and "ean13" in got[8][1]
    assert got[9] == ("INVALID_PRICE", "Invalid price")
    # Error lines are kept and shown on request; the OK line alone by default.
    plain = pnb("getOrders", {**coll_auth(), "orderIdColl": "ERRS"})
    assert [x["returnStatus"] for x in plain["getOrderResponseLine"]] == ["OK"]
    full = pnb("getOrders", {**coll_auth(), "orderIdColl": "ERRS", "returnLinesWithError": True})
    assert [x["returnStatus"] for x in full["getOrderResponseLine"]] == [s for s, _ in got]


def test_all_lines_in_error() -> None:
    answer = pnb("sendOrder", order_body(line(demo.UNKNOWN_EAN)))
    assert (answer["returnStatus"], answer["returnMessage"]) == (
        "WARNING",
        "All sendOrder lines are returned with error",
    )


def test_duplicate_order_id_is_refused_and_writes_nothing() -> None:
    body = order_body(line(), order_id="DUP1", orderIdColl="DUPC")
    assert pnb("sendOrder", body)["returnStatus"] == "OK"
    again = pnb("sendOrder", order_body(line("9791000000022"), order_id="DUP1", orderIdColl="DUPC"))
    assert again["returnStatus"] == "DUPLICATED"
    assert again["returnMessage"] == f"{demo.RESELLER} : Order with referenceCommande DUP1 already exists"
    lines = pnb("getOrders", {**coll_auth(), "orderIdColl": "DUPC", "returnLinesWithError": True})
    assert [x["orderLine"][0]["ean13"] for x in lines["getOrderResponseLine"]] == ["9791000000015"]
    # Another reseller may reuse the same orderId: uniqueness is per reseller.
    other = order_body(line(), order_id="DUP1", glnReseller=demo.RESELLER2, passwordReseller=demo.RESELLER2_PASSWORD)
    assert pnb("sendOrder", other)["returnStatus"] == "OK"


@pytest.mark.parametrize(
    ("over", "status", "message"),
    [
        (
            {"glnColl": "3012345000079"},
            "UNKNOWN_GLN",
            "glnColl : 3012345000079 is not referenced in the Customer Relationship Management",
        ),
        ({"glnColl": demo.LIBRARY}, "INVALID_ARGUMENTS", f"glnColl : {demo.LIBRARY} is not a local authority"),
        (
            {"glnContractor": demo.RESELLER2},
            "INVALID_ARGUMENTS",
            f"glnContractor: {demo.RESELLER2} glnContractor is invalid : unknown GLN",
        ),
        (
            {"glnDelivery": "3012345000079"},
            "INVALID_ARGUMENTS",
            "glnDelivery : 3012345000079 glnDelivery is invalid : unknown GLN",
        ),
        ({"passwordReseller": "wrong"}, "AUTHENTICATION_ERROR", "Bad credentials"),
        ({"passwordReseller": None}, "AUTHENTICATION_ERROR", "Bad credentials"),
        # a genuine account without the right to the service: the spec's base ACCES_DENIED
        ({"glnReseller": demo.COLL, "passwordReseller": demo.COLL_PASSWORD}, "ACCES_DENIED", "Authorization failure"),
        ({"orderId": "x" * 17}, "INVALID_ARGUMENTS", None),
        ({"orderId": "a-b"}, "INVALID_ARGUMENTS", None),
        ({"glnColl": "3012345000030"}, "INVALID_ARGUMENTS", None),  # wrong check digit
        ({"collCountry": "France"}, "INVALID_ARGUMENTS", None),
        ({"orderRequestLine": []}, "INVALID_ARGUMENTS", None),
        ({"orderIdColl": None}, "INVALID_ARGUMENTS", "The parameter orderIdColl is mandatory"),
    ],
)
def test_request_level_errors(over: dict, status: str, message: str | None) -> None:
    body = order_body(line(), **over)
    body = {k: v for k, v in body.items() if v is not None}
    answer = pnb("sendOrder", body)
    assert answer["returnStatus"] == status, answer
    if message:
        assert answer["returnMessage"] == message
    else:
        assert answer["returnMessage"]


def test_line_dmd_date_must_be_iso_with_zone() -> None:
    answer = pnb("sendOrder", order_body(line(dmdDate="2026-11-01")))
    assert answer["orderResponseLine"][0]["returnStatus"] == "INVALID_ARGUMENTS"
    assert "dmdDate" in answer["orderResponseLine"][0]["returnMessage"]


def test_body_that_is_not_json_is_400() -> None:
    status, answer = invoke("POST", "/v2/pnb-numerique/sendOrder", "{not json")
    assert status == 400 and answer["returnStatus"] == "INVALID_ARGUMENTS" and answer["requestId"]
    status, answer = invoke("POST", "/v2/pnb-numerique/sendOrder", "[1, 2]")
    assert status == 400 and answer["returnStatus"] == "INVALID_ARGUMENTS"


def test_restricted_distributor_access(aws: dict) -> None:
    from lending.domain.values import replace
    from lending.services import auth
    from lending.store import accounts

    reseller = accounts.get(demo.RESELLER2)
    assert reseller
    accounts.save(replace(reseller, distributors=(demo.DISTRIBUTOR,)))
    coll = accounts.get(demo.COLL2)
    assert coll
    accounts.save(replace(coll, distributors=(demo.DISTRIBUTOR2,)))
    auth.forget()
    body = order_body(
        line(),
        line("9791000000053", dist=demo.DISTRIBUTOR2),
        glnReseller=demo.RESELLER2,
        passwordReseller=demo.RESELLER2_PASSWORD,
        glnColl=demo.COLL2,
    )
    got = [(x["returnStatus"], x["returnMessage"]) for x in pnb("sendOrder", body)["orderResponseLine"]]
    assert got == [
        ("ACCES_DENIED", f"{demo.COLL2} is not set to order for {demo.DISTRIBUTOR}, please contact DILICOM"),
        ("ACCES_DENIED", "You are not allowed to call service from this GlnDistributeur, please contact DILICOM"),
    ]


def test_cancel_whole_order_and_lines() -> None:
    answer = pnb("sendOrder", order_body(line(), line(demo.UNKNOWN_EAN), line("9791000000022"), order_id="CANC1"))
    ok_line, err_line, third = (x["orderLineId"] for x in answer["orderResponseLine"])
    reseller = {"glnReseller": demo.RESELLER, "passwordReseller": demo.RESELLER_PASSWORD, "orderId": "CANC1"}
    one = pnb("cancelOrder", {**reseller, "orderLineId": [third]})
    assert one["returnStatus"] == "OK"
    assert one["cancelResponseLine"] == [{"orderLineId": third, "returnStatus": "CANCELLED"}]
    every = pnb("cancelOrder", reseller)
    assert every["returnStatus"] == "OK"
    assert {x["orderLineId"]: x["returnStatus"] for x in every["cancelResponseLine"]} == {
        ok_line: "CANCELLED",
        err_line: "CANCELLED",
        third: "CANCELLED",
    }
    status = pnb("getLoanStatus", {**coll_auth(), "orderLineId": [ok_line]})
    assert status["loanResponseLine"][0]["returnStatus"] == "CANCELLED"
    assert status["loanResponseLine"][0]["nus1"] == 0


def test_cancel_refuses_a_used_licence_and_unknown_ids() -> None:
    (used,) = order_ok(order_id="CANC2")
    from tests.helpers import loan_body

    assert pnb("loanBook", loan_body(used, "LCANC2"))["returnStatus"] == "OK"
    reseller = {"glnReseller": demo.RESELLER, "passwordReseller": demo.RESELLER_PASSWORD, "orderId": "CANC2"}
    answer = pnb("cancelOrder", reseller)
    assert answer["returnStatus"] == "WARNING"
    assert answer["cancelResponseLine"][0]["returnStatus"] == "ACCES_DENIED"
    missing = pnb("cancelOrder", {**reseller, "orderLineId": ["123456789012345678901234"]})
    assert missing == {
        **missing,
        "returnStatus": "NOT_FOUND",
        "returnMessage": "The orderLineId 123456789012345678901234 does not exist",
    }
    nothing = pnb("cancelOrder", {**reseller, "orderId": "NOPE"})
    assert nothing["returnStatus"] == "NOT_FOUND"
    assert nothing["returnMessage"] == f"{demo.RESELLER} : Order with referenceCommande 'NOPE' is not found"
    # Another reseller cannot see (or cancel) this order.
    other = pnb("cancelOrder", {**reseller, "glnReseller": demo.RESELLER2, "passwordReseller": demo.RESELLER2_PASSWORD})
    assert other["returnStatus"] == "NOT_FOUND"


def test_check_availability_every_case() -> None:
    def cl(ean: str, dist: str = demo.DISTRIBUTOR, **over: object) -> dict:
        out = {
            k: v
            for k, v in line(ean, dist).items()
            if k in ("ean13", "glnDistributor", "unitPrice", "unitPriceExcludingTax", "currency")
        }
        out.update(over)
        return out

    body = {
        "glnReseller": demo.RESELLER,
        "passwordReseller": demo.RESELLER_PASSWORD,
        "glnContrator": demo.CONTRACTOR,
        "resellerCountry": "FR",
        "collCountry": "FR",
        "glnColl": demo.COLL,
        "checkAvailabilityLine": [
            cl("9791000000015"),
            cl(demo.UNKNOWN_EAN),
            cl("9791000000046"),
            cl("9791000000022", unitPrice=1400, unitPriceExcludingTax=1300),
            cl("9791000000053", "3012345000017"),
            cl("9791000000053", demo.DISTRIBUTOR2),
            cl("9791000000039"),
        ],
    }
    stock = offers.get("9791000000039", demo.DISTRIBUTOR)
    assert stock is not None
    offers.save(replace(stock, availability="31"))  # "Out of stock": no message of the spec, cannot be sold
    answer = pnb("checkAvailability", body)
    got = [
        (x["returnStatus"], x["checkAvailabilityReturnValue"], x.get("returnMessage"))
        for x in answer["checkAvailabilityResponseLine"]
    ]
    assert got == [
        ("OK", "AVAILABLE", None),
        ("OK", "UNAVAILABLE", f"The EAN13 {demo.UNKNOWN_EAN} does not exist for Distributor GLN {demo.DISTRIBUTOR}"),
        ("OK", "UNAVAILABLE", "ProductAvailability 40: This product is not available"),
        ("INVALID_PRICE", "UNAVAILABLE", "Invalid price"),
        ("UNKNOWN_GLN", "UNAVAILABLE", "Unsupported GlnDistributeur"),
        ("OK", "AVAILABLE", None),
        ("PRODUCT_CANNOT_BE_SOLD", "UNAVAILABLE", "The product can not be sold"),
    ]
    assert answer["returnStatus"] == "WARNING"
    assert all(x["Date"].endswith("Z") for x in answer["checkAvailabilityResponseLine"])
    assert answer["checkAvailabilityResponseLine"][0]["unitPrice"] == 2400


def test_get_orders_needs_a_criterion_and_isolates_tenants() -> None:
    order_ok(orderIdColl="ISO1")
    assert pnb("getOrders", coll_auth())["returnStatus"] == "INVALID_ARGUMENTS"
    since = iso(datetime.now(UTC) - timedelta(hours=1))
    mine = pnb("getOrders", {**coll_auth(), "sinceDate": since})
    assert any(x["orderIdColl"] == "ISO1" for x in mine["getOrderResponseLine"])
    theirs = pnb("getOrders", {**coll_auth(demo.COLL2, demo.COLL2_PASSWORD), "sinceDate": since})
    assert theirs["getOrderResponseLine"] == [] and theirs["noOrder"] == ""
    future = pnb("getOrders", {**coll_auth(), "sinceDate": iso(datetime.now(UTC) + timedelta(days=1))})
    assert future["noOrder"] == ""


def test_a_line_in_error_echoes_only_plain_short_values() -> None:
    junk = {"ean13": {"a": 1}, "glnDistributor": ["x"], "unitPrice": "12.5", "lineReference": "R" * 500,
            "currency": None, "quantity": True, "dmdDate": "x"}
    answer = pnb("sendOrder", order_body(line(), junk))
    bad = answer["orderResponseLine"][1]
    assert bad["returnStatus"] == "INVALID_ARGUMENTS" and len(bad["orderLineId"]) == 24
    assert set(bad) == {"orderLineId", "returnStatus", "returnMessage"}  # nothing of the junk
    # Only the integer 1 is a quantity: true, "1" or 1.0 buy nothing, and what was sent is what is echoed.
    for quantity in (True, "1", 1.0, 0, 2):
        (refused,) = pnb("sendOrder", order_body(line(quantity=quantity)))["orderResponseLine"]
        assert refused["returnStatus"] == "INVALID_ARGUMENTS" and "quantity" in refused["returnMessage"], quantity
        assert refused.get("quantity") == (quantity if type(quantity) is int else None)
    check = pnb("checkAvailability", {"glnReseller": demo.RESELLER, "passwordReseller": demo.RESELLER_PASSWORD,
                                      "resellerCountry": "FR", "collCountry": "FR", "checkAvailabilityLine": [junk]})
    assert "ean13" not in check["checkAvailabilityResponseLine"][0]
