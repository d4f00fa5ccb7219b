"""PNB request schemas: the spec's names, formats and limits, defined once for both doors (lending.validation
says how they are validated, and why without a schema library). A schema error becomes INVALID_ARGUMENTS
naming the field. The SOAP door's pnb.xsd says the same, element by element: tests/unit/test_pnb_contract.py
holds it to these schemas (change a field here, then there; the test names every difference)."""

from __future__ import annotations

from ..domain.identifiers import PASSWORD_MAX
from ..domain.limits import LCP_HINT_MAX as HINT_MAX
from ..domain.limits import LCP_PASSPHRASE_MAX as PASSPHRASE_MAX
from ..domain.limits import MAX_PRICE_CENTS, MAX_TAX_RATE
from ..validation import Schema, boolean, choice, gln, https_url, integer, iso_date, lines, listof, record, text

ALNUM16 = text(r"^[A-Za-z0-9]{1,16}$")
# A loan id: the spec's 24 alphanumerics, and the separators library systems put in theirs (PMB:
# `<patron>x<item>x<date>`, `12_345_20191203`).
LOAN_ID = text(r"^[A-Za-z0-9_\-]{1,24}$")
ORDER_LINE_ID = text(r"^[0-9]{24}$")  # as the hub issues them (cancelOrder, loanBook, consultBook)
ORDER_LINE_REF = text(r"^[A-Za-z0-9]{1,35}$")  # the spec's form, where any line may be named
COUNTRY = text(r"^[A-Z]{2}$")  # ISO 3166-1 alpha-2 (ONIX list 91)
CURRENCY = text(r"^[A-Z]{3}$")  # ISO 4217 (ONIX list 96)
CENTS = integer(ge=0, le=MAX_PRICE_CENTS)
TAX_RATE = integer(ge=0, le=MAX_TAX_RATE)
URL = https_url()
IP = text(min_length=0, max_length=64)  # empty is absent: with IN_SITU, the spec's "ip adress is null"
MEDIUM = choice("DOWNLOAD", "STREAMING")
LOCALIZATION = choice("IN_SITU", "EX_SITU")
CONTRACTOR = {"glnContractor": gln()}
# The caller's credentials (each operation names its two fields: operations.Operation.credentials) are
# checked by services.auth before anything else, a malformed one being AUTHENTICATION_ERROR rather than a
# field's refusal; their form is written here for pnb.xsd. endLoan's are optional in the spec (the hub
# still requires them: absent, AUTHENTICATION_ERROR).
PASSWORD = text(rf"^[A-Za-z0-9]{{1,{PASSWORD_MAX}}}$")  # services.auth checks the same (is_alnum)
CREDENTIAL = {"gln": gln(), "password": PASSWORD}
SPEC_OPTIONAL_CREDENTIALS = frozenset({"endLoan"})

ORDER_REQUEST_LINE = Schema(
    {"ean13": gln(), "glnDistributor": gln(), "unitPrice": CENTS, "unitPriceExcludingTax": CENTS,
     "taxRate": TAX_RATE, "quantity": integer(), "currency": CURRENCY, "dmdDate": iso_date(),
     "lineReference": ALNUM16, "lineReferenceColl": ALNUM16},
    optional=("taxRate", "lineReference", "lineReferenceColl"), defaults={"quantity": 1})

# 99 lines: an order and its lines are written in one transaction of at most 100 items.
SEND_ORDER = Schema(
    {"glnColl": gln(), **CONTRACTOR, "glnDelivery": gln(), "orderId": ALNUM16, "orderIdColl": ALNUM16,
     "resellerCountry": COUNTRY, "collCountry": COUNTRY,
     "orderRequestLine": listof(lines(ORDER_REQUEST_LINE), min_length=1, max_length=99)},
    optional=("glnContractor", "glnDelivery"))

CANCEL_ORDER = Schema({**CONTRACTOR, "orderId": ALNUM16, "orderLineId": listof(ORDER_LINE_ID, max_length=99)},
                      optional=("glnContractor", "orderLineId"))

CHECK_AVAILABILITY_LINE = Schema(
    {"ean13": gln(), "glnDistributor": gln(), "unitPrice": CENTS, "unitPriceExcludingTax": CENTS,
     "taxRate": TAX_RATE, "currency": CURRENCY},
    optional=("taxRate",))

CHECK_AVAILABILITY = Schema(
    {"glnColl": gln(), **CONTRACTOR, "glnContrator": gln(), "resellerCountry": COUNTRY, "collCountry": COUNTRY,
     "checkAvailabilityLine": listof(lines(CHECK_AVAILABILITY_LINE), min_length=1, max_length=100)},
    optional=("glnColl", "glnContractor", "glnContrator"))  # glnContrator: the spec's own spelling

GET_ORDERS = Schema({**CONTRACTOR, "sinceDate": iso_date(), "orderIdColl": ALNUM16,
                     "returnLinesWithError": boolean()},
                    optional=("glnContractor", "sinceDate", "orderIdColl"), defaults={"returnLinesWithError": False})

DECLARE_IP = Schema({**CONTRACTOR, "ips": listof(text(max_length=100), min_length=1, max_length=100)},
                    optional=("glnContractor",))

# What the DRM needs of the reader (PMB sends it with every loan) and the statistics' reader profile:
# kept with the loan, never echoed in logs or messages (the passphrase hint and the reader id are personal).
# readerPass / readerHint also make the loan a Readium LCP one (services.lcp); the passphrase is never stored.
SHORT = text(min_length=0, max_length=PASSPHRASE_MAX)  # an empty readerPass is refused by the operation
DRM_INFO = record({"userAgent": SHORT, "readerPass": SHORT, "readerHint": text(min_length=0, max_length=HINT_MAX),
                   "readerId": SHORT, "extendUrl": URL})
USER_INFO = record({"year": text(r"^[0-9]{4}$"), "gender": text(min_length=0, max_length=16)})
PRIVATE = ("DRMinfo", "userInfo")
_LOAN = {**CONTRACTOR, "loanerColl": gln(), "DRMinfo": DRM_INFO, "userInfo": USER_INFO,
         "orderLineId": ORDER_LINE_ID, "loanId": LOAN_ID, "ean13": gln(), "accessMedium": MEDIUM,
         "localization": LOCALIZATION, "ipAddress": IP, "callbackUrl": URL}
_LOAN_OPTIONAL = ("glnContractor", "loanerColl", "ipAddress", "callbackUrl", "DRMinfo", "userInfo")
LOAN_BOOK = Schema({**_LOAN, "loanEndDate": iso_date()}, optional=_LOAN_OPTIONAL, private=PRIVATE)
# ipAddress is mandatory for consultBook, checked by the operation: its absence with IN_SITU has its own code.
CONSULT_BOOK = Schema({**_LOAN, "consultEndDate": iso_date()}, optional=_LOAN_OPTIONAL, private=PRIVATE)

# returnEndedLoan (REST binding, PMB's scheduled sync): each line also lists its loans ended early.
GET_LOAN_STATUS = Schema({**CONTRACTOR, "orderLineId": listof(ORDER_LINE_REF, min_length=1, max_length=100),
                          "returnEndedLoan": boolean()},
                         optional=("glnContractor",), defaults={"returnEndedLoan": False})

GET_ENDED_LOANS = Schema({**CONTRACTOR, "date": iso_date(), "loanId": listof(LOAN_ID, max_length=20)},
                         optional=("glnContractor", "date", "loanId"))

END_LOAN = Schema({"orderLineId": ORDER_LINE_REF, "loanId": LOAN_ID, "date": iso_date()}, optional=("date",))

GET_OFFERS = Schema({**CONTRACTOR, "sinceDate": iso_date(), "lastConnection": text(min_length=0)},
                    optional=("glnContractor", "sinceDate", "lastConnection"))
GET_OFFERS_FOR_DISTRIBUTOR = Schema(
    {**CONTRACTOR, "glnDistributor": gln(), "sinceDate": iso_date(), "lastConnection": text(min_length=0)},
    optional=("glnContractor", "sinceDate", "lastConnection"))

# The later services, as library systems call them (PMB: `login`/`password`, glnContractor = login).
RETURN_LOAN = Schema({**CONTRACTOR, "orderLineId": ORDER_LINE_REF, "loanId": LOAN_ID},
                     optional=("glnContractor",))
EXTEND_LOAN = Schema({**CONTRACTOR, "orderLineId": ORDER_LINE_REF, "loanId": LOAN_ID, "date": iso_date()},
                     optional=("glnContractor",))
GET_USER_AGENT = Schema({**CONTRACTOR}, optional=("glnContractor",))
