"""PNB request models (pydantic v2): the spec's names, formats and limits.

A model error becomes INVALID_ARGUMENTS naming the field (`describe`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from ..domain.dates import parse_iso
from ..domain.identifiers import is_gln, is_order_line_id
from ..domain.licences import AccessMedium, Localization


def _gln(v: str) -> str:
    if not is_gln(v):
        raise ValueError("must be 13 digits with a valid check digit")
    return v


def _date(v: Any) -> datetime:
    if isinstance(v, datetime) and v.tzinfo is not None:
        return v
    parsed = parse_iso(v)
    if parsed is None:
        raise ValueError("must be an ISO 8601 date yyyy-mm-ddThh:mm:ssTZD")
    return parsed


def _line_id(v: str) -> str:
    if not is_order_line_id(v):
        raise ValueError("must be 24 digits")
    return v


def _as_list(v: Any) -> Any:
    """JSON clients may send one element where the spec has an array; SOAP always may."""
    if v is None or isinstance(v, list):
        return v
    return [v]


def _text(v: Any) -> Any:
    return str(v) if isinstance(v, int) and not isinstance(v, bool) else v


Gln = Annotated[str, BeforeValidator(_text), AfterValidator(_gln)]
Ean13 = Gln
Alnum16 = Annotated[str, BeforeValidator(_text), Field(pattern=r"^[A-Za-z0-9]{1,16}$")]
Alnum24 = Annotated[str, BeforeValidator(_text), Field(pattern=r"^[A-Za-z0-9]{1,24}$")]
OrderLineId = Annotated[str, BeforeValidator(_text), AfterValidator(_line_id)]
IsoDate = Annotated[datetime, BeforeValidator(_date)]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
Cents = Annotated[int, Field(ge=0, le=10**9)]
Url = Annotated[str, Field(max_length=2048, pattern=r"^https?://")]


class PnbModel(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class OrderRequestLine(PnbModel):
    ean13: Ean13
    glnDistributor: Gln
    unitPrice: Cents
    unitPriceExcludingTax: Cents
    taxRate: Annotated[int, Field(ge=0, le=99999)] | None = None
    quantity: int = 1
    currency: Currency
    dmdDate: IsoDate
    lineReference: Alnum16 | None = None
    lineReferenceColl: Alnum16 | None = None


class SendOrder(PnbModel):
    glnColl: Gln
    glnContractor: Gln | None = None
    glnDelivery: Gln | None = None
    orderId: Alnum16
    orderIdColl: Alnum16
    resellerCountry: Country
    collCountry: Country
    # 99 lines: the order and its lines are written in one transaction of at most 100 items.
    orderRequestLine: Annotated[list[dict[str, Any]], BeforeValidator(_as_list), Field(min_length=1, max_length=99)]


class CancelOrder(PnbModel):
    glnContractor: Gln | None = None
    orderId: Alnum16
    orderLineId: Annotated[list[OrderLineId] | None, BeforeValidator(_as_list), Field(max_length=99)] = None


class CheckAvailabilityLine(PnbModel):
    ean13: Ean13
    glnDistributor: Gln
    unitPrice: Cents
    unitPriceExcludingTax: Cents
    taxRate: Annotated[int, Field(ge=0, le=99999)] | None = None
    currency: Currency


class CheckAvailability(PnbModel):
    glnColl: Gln | None = None
    glnContractor: Gln | None = None
    glnContrator: Gln | None = None  # the spec's own spelling, accepted as well
    resellerCountry: Country
    collCountry: Country
    checkAvailabilityLine: Annotated[list[dict[str, Any]], BeforeValidator(_as_list),
                                     Field(min_length=1, max_length=100)]


class GetOrders(PnbModel):
    glnContractor: Gln | None = None
    sinceDate: IsoDate | None = None
    orderIdColl: Alnum16 | None = None
    returnLinesWithError: bool = False


class DeclareIp(PnbModel):
    glnContractor: Gln | None = None
    ips: Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]], BeforeValidator(_as_list),
                   Field(min_length=1, max_length=100)]


class LoanBook(PnbModel):
    glnContractor: Gln | None = None
    loanerColl: Gln | None = None
    orderLineId: OrderLineId
    loanId: Alnum24
    ean13: Ean13
    accessMedium: AccessMedium
    localization: Localization
    loanEndDate: IsoDate
    ipAddress: Annotated[str, Field(max_length=64)] | None = None
    callbackUrl: Url | None = None


class ConsultBook(PnbModel):
    glnContractor: Gln | None = None
    loanerColl: Gln | None = None
    orderLineId: OrderLineId
    loanId: Alnum24
    ean13: Ean13
    accessMedium: AccessMedium
    localization: Localization
    consultEndDate: IsoDate
    ipAddress: Annotated[str, Field(max_length=64)]
    callbackUrl: Url | None = None


class GetLoanStatus(PnbModel):
    glnContractor: Gln | None = None
    orderLineId: Annotated[list[Annotated[str, BeforeValidator(_text)]], BeforeValidator(_as_list),
                           Field(min_length=1, max_length=100)]


class GetEndedLoans(PnbModel):
    glnContractor: Gln | None = None
    date: IsoDate | None = None
    loanId: Annotated[list[Alnum24] | None, BeforeValidator(_as_list), Field(max_length=20)] = None


class EndLoan(PnbModel):
    orderLineId: Annotated[str, BeforeValidator(_text), Field(min_length=1, max_length=35)]
    loanId: Alnum24
    date: IsoDate | None = None


class GetOffers(PnbModel):
    glnContractor: Gln | None = None
    sinceDate: IsoDate | None = None
    lastConnection: str | None = None


class GetOffersForDistributor(GetOffers):
    glnDistributor: Gln


def describe(error: ValidationError) -> str:
    """The first problem, named by its field path, as INVALID_ARGUMENTS' message."""
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "request"
    if first["type"] == "missing":
        return f"The parameter {where} is mandatory"
    got = first.get("input")
    shown = f" : {got}" if isinstance(got, str | int) and len(str(got)) <= 64 else ""
    return f"The parameter {where}{shown} is invalid: {first['msg']}"
