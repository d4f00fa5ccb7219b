"""The PNB door's one table: every refusal reason -> (returnStatus, the spec's returnMessage).

Shared by the JSON and SOAP bindings. Messages are the spec's (or Dilicom's observed) wording, typos
included; `{name}` is a parameter of the refusal (domain/refusals.PARAMS)."""

from __future__ import annotations

from ..domain.codes import Status
from ..domain.limits import REMOVED
from ..domain.refusals import Reason, Refused

R = Reason
S = Status

_POOL_FULL = {
    "dl": "The maximum number of simultaneous downloads loans is reached.",
    "on": "The maximum number of on-site consultation is reached.",
    "off": "The maximum number of off-site consultation is reached.",
}

# checkAvailability's words for an offer that cannot be sold now (domain.offers.unavailability): the
# spec's own messages for the ONIX ProductAvailability codes it names, and a removed offer's.
UNAVAILABLE: dict[str, str] = {
    "01": "ProductAvailability 01: This product has been CANCELLED",
    "10": "ProductAvailability 10: This product is not yet available",
    "30": "ProductAvailability 30: This product is temporarily unavailable",
    "40": "ProductAvailability 40: This product is not available",
    "45": "ProductAvailability 45: This product is unmarketable separately",
    "46": "ProductAvailability 46: This withdrawn from sale",
    REMOVED: "Notification type 05: This product is removed",
}

def rollup(service: str, line_statuses: list[str]) -> tuple[Status, str | None]:
    """Request status from line statuses: OK when every line is OK, else WARNING (spec, base codes)."""
    bad = sum(1 for s in line_statuses if s != Status.OK)
    if not line_statuses or bad == 0:
        return Status.OK, None
    if bad == len(line_statuses):
        return Status.WARNING, f"All {service} lines are returned with error"
    return Status.WARNING, f"Some {service} lines are returned with error"


TABLE: dict[Reason, tuple[Status, str]] = {
    R.BAD_CREDENTIALS: (S.AUTHENTICATION_ERROR, "Bad credentials"),
    # Spring Security's own text, what Dilicom's REST binding answers with its 401.
    R.MISSING_CREDENTIALS: (S.AUTHENTICATION_ERROR, "Full authentication is required to access this resource"),
    R.NOT_AUTHORIZED: (S.ACCES_DENIED, "Authorization failure"),
    R.TOO_MANY_SIGNINS: (S.AUTHENTICATION_ERROR, "Too many failed sign-ins for this account or from this address: "
                                                 "try again after {retry_after}"),
    R.UNKNOWN_OPERATION: (S.NOT_IMPLEMENTED, "Service {service} is not implemented"),
    R.INVALID_PARAMETER: (S.INVALID_ARGUMENTS, "{detail}"),
    R.UNREADABLE_REQUEST: (S.INVALID_ARGUMENTS, "The request cannot be read ({detail})"),
    R.UNKNOWN_COLLECTIVITY: (S.UNKNOWN_GLN, "glnColl : {gln} is not referenced in the Customer Relationship "
                                           "Management"),
    R.NOT_A_COLLECTIVITY: (S.INVALID_ARGUMENTS, "glnColl : {gln} is not a local authority"),
    R.UNKNOWN_CONTRACTOR: (S.INVALID_ARGUMENTS, "glnContractor: {gln} glnContractor is invalid : unknown GLN"),
    R.UNKNOWN_DELIVERY: (S.INVALID_ARGUMENTS, "glnDelivery : {gln} glnDelivery is invalid : unknown GLN"),
    R.UNKNOWN_DISTRIBUTOR: (S.UNKNOWN_GLN, "Unsupported GlnDistributeur"),
    R.DISTRIBUTOR_DENIED: (S.ACCES_DENIED, "You are not allowed to call service from this GlnDistributeur, "
                                           "please contact DILICOM"),
    R.COLL_DISTRIBUTOR_DENIED: (S.ACCES_DENIED, "{gln_coll} is not set to order for {gln_distributor}, please "
                                                "contact DILICOM"),
    R.NOT_A_LIBRARY_OF: (S.INVALID_ARGUMENTS, "loanerColl : {loaner} is not a library of {gln_coll}"),
    R.QUANTITY_NOT_ONE: (S.INVALID_ARGUMENTS, "The parameter quantity is invalid. The quantity is limited to 1"),
    R.DUPLICATED_LINE: (S.DUPLICATED, "The ean {ean13} is duplicated for glnDistributeur {gln_distributor}"),
    R.UNKNOWN_OFFER: (S.NOT_FOUND, "The EAN13 {ean13} does not exist for Distributor GLN {gln_distributor}"),
    R.CANNOT_BE_SOLD: (S.PRODUCT_CANNOT_BE_SOLD, "The product can not be sold"),
    R.PRICE_HT_ABOVE_TTC: (S.INVALID_ARGUMENTS, "unitPriceWithoutTax is invalid : cannot be higher than unitPrice"),
    R.INVALID_PRICE: (S.INVALID_PRICE, "Invalid price"),
    R.ORDER_EXISTS: (S.DUPLICATED, "{gln_reseller} : Order with referenceCommande {order_id} already exists"),
    R.ORDER_NOT_FOUND: (S.NOT_FOUND, "{gln_reseller} : Order with referenceCommande '{order_id}' is not found"),
    R.UNKNOWN_LINE: (S.NOT_FOUND, "The orderLineId {order_line_id} does not exist"),
    R.LINE_USED: (S.ACCES_DENIED, "The orderLineId {order_line_id} has already been used and cannot be cancelled"),
    R.MISSING_SINCE_OR_ORDER_ID: (S.INVALID_ARGUMENTS, "One of the parameters sinceDate or orderIdColl is "
                                                       "mandatory"),
    R.MISSING_SINCE_OR_LAST: (S.INVALID_ARGUMENTS, "One of the parameters sinceDate or lastConnection is "
                                                   "mandatory"),
    R.SINCE_AND_LAST: (S.INVALID_ARGUMENTS, "The parameters sinceDate and lastConnection cannot be used together"),
    R.DATE_TOO_OLD: (S.DATE_TOO_OLD, "The date can't be older than {days} days"),
    R.FIRST_CONNECTION: (S.ACCES_DENIED, "Not available for the moment, please contact DILICOM. Catalog can be "
                                         "provided by FTP"),
    R.TOO_MANY_CONNECTIONS: (S.ACCES_DENIED, "Only 5 last connection requests are allowed within the previous "
                                             "24 hours"),
    R.NO_PLATFORM_ACCESS: (S.ACCES_DENIED, "You don't have Access to this Platform"),
    R.INVALID_IP_RANGE: (S.INVALID_ARGUMENTS, "Ip range is not valid [{text}]."),
    R.IP_RANGE_TOO_LARGE: (S.INVALID_ARGUMENTS, "Ip range is not valid (size > 1000 ips) [{text}]."),
    R.MISSING_IP: (S.ACCES_DENIED, "{gln_coll}: The ip adress is null and localization IN_SITU."),
    R.IP_NOT_DECLARED: (S.ACCES_DENIED, "{gln_coll}: The ip adress '{ip} is not declared in PNB and "
                                        "localization IN_SITU."),
    R.IP_MANDATORY: (S.INVALID_ARGUMENTS, "The parameter ipAddress is mandatory"),
    R.WRONG_EAN: (S.NOT_FOUND, "{gln_coll} : The ean {ean13} is not a part of orderLine '{order_line_id}'!"),
    R.CANNOT_BE_LOANED: (S.PRODUCT_CANNOT_BE_LOAN, "The product cannot be loan"),
    R.LICENCE_EXPIRED: (S.LOAN_DURATION_EXPIRED, "The loan duration is expired."),
    R.NTA_EXHAUSTED: (S.MAX_LOAN_QUANTITY_REACHED, "The loan number limit is reached."),
    R.POOL_FULL: (S.MAX_SIMULTANEOUS_LOAN_REACHED, "{pool_full}"),
    R.INVALID_END: (S.INVALID_ARGUMENTS, "invalid expiration date"),
    R.OVER_MAX_DURATION: (S.INVALID_ARGUMENTS, "The parameter loanEndDate is invalid. The loan duration is over "
                                               "maximum autorized limit"),
    R.DUPLICATED: (S.DUPLICATED, "{gln_coll}: Loan with id '{loan_id}' already exists"),
    R.ALREADY_ENDED: (S.ACCES_DENIED, "The loan with orderlineId '{order_line_id}' and loanId '{loan_id}' is "
                                      "already ended"),
    R.INVALID_RETURN_DATE: (S.INVALID_ARGUMENTS, "The parameter date is invalid: it must lie between the loan's "
                                                 "start and now"),
    R.MISSING_DATE_OR_LOAN_ID: (S.INVALID_ARGUMENTS, "One of the parameters date or loanId is mandatory"),
    R.LOAN_NOT_IN_LINE: (S.NOT_FOUND, "No Loan having a line with orderLineId '{order_line_id}' and a loanId "
                                      "'{loan_id}' is found"),
    R.END_NOT_LATER: (S.INVALID_ARGUMENTS, "The parameter date is invalid: the new loan end date must be after the "
                                           "current one ({current})"),
    R.RENEWAL_TOO_LONG: (S.INVALID_ARGUMENTS, "The parameter date is invalid. The loan duration is over maximum "
                                              "autorized limit ({days} days from the loan's start)"),
    R.LICENCE_ENDS_FIRST: (S.INVALID_ARGUMENTS, "The parameter date is invalid: the licence ends on {end}, before it"),
    # The v1 door's reasons: PNB never meets them; worded as the nearest PNB answer all the same.
    R.PATRON_ACTIVE_LIMIT: (S.ACCES_DENIED, "You have reached the loan limit authorized by your library."),
    R.PATRON_DAILY_LIMIT: (S.ACCES_DENIED, "This patron has reached the maximum number of loans per day."),
    R.PATRON_MONTHLY_LIMIT: (S.ACCES_DENIED, "This patron has reached the maximum number of loans per month."),
    R.ALL_ON_LOAN: (S.MAX_SIMULTANEOUS_LOAN_REACHED, "All resources are currently on loan."),
    R.NOTHING_LEFT: (S.MAX_LOAN_QUANTITY_REACHED, "This resource can no longer be lent."),
    R.MEDIUM_NOT_FOUND: (S.NOT_FOUND, "The media cannot be found."),
    R.LOAN_NOT_FOUND: (S.NOT_FOUND, "Loan not found."),
    R.LOAN_EXPIRED: (S.ACCES_DENIED, "The loan has expired."),
    R.LOAN_RETURNED: (S.ACCES_DENIED, "This loan's availability period has expired."),
    R.EMAIL_IN_USE: (S.INVALID_ARGUMENTS, "The email address is already in use"),
    R.BUSY: (S.ERROR, "Too many simultaneous requests for this patron, try again."),
    # Holds (the v1 door's queue): PNB never meets them; worded as the nearest PNB answer all the same.
    R.ALREADY_ON_LOAN: (S.ACCES_DENIED, "This patron already has this resource on loan."),
    R.COPIES_AVAILABLE: (S.ACCES_DENIED, "A copy is available now: borrow it instead."),
    R.HOLD_LIMIT: (S.ACCES_DENIED, "You have reached the hold limit authorized by your library."),
    R.HOLD_NOT_FOUND: (S.NOT_FOUND, "Hold not found."),
    R.HOLD_ENDED: (S.ACCES_DENIED, "This hold is no longer active."),
    # The console's reasons: PNB never meets them; worded as the nearest PNB answer all the same.
    R.FORBIDDEN: (S.ACCES_DENIED, "Authorization failure"),
    R.NOT_FOUND: (S.NOT_FOUND, "Not found"),
    R.BAD_CODE: (S.AUTHENTICATION_ERROR, "Bad credentials"),
    R.CODE_ALREADY_USED: (S.AUTHENTICATION_ERROR, "Bad credentials"),
    R.NO_PENDING_SIGN_IN: (S.AUTHENTICATION_ERROR, "Bad credentials"),
    R.INVALID_EMAIL: (S.INVALID_ARGUMENTS, "Invalid email"),
    R.UNKNOWN_LIBRARY: (S.UNKNOWN_GLN, "Unknown library"),
    R.EMAIL_TAKEN: (S.DUPLICATED, "Email already in use"),
    R.INVALID_LINK: (S.NOT_FOUND, "Invalid link"),
    R.PASSWORD_TOO_SHORT: (S.INVALID_ARGUMENTS, "Password too short"),
    R.PASSWORD_TOO_LONG: (S.INVALID_ARGUMENTS, "Password too long"),
    R.PASSWORD_IS_EMAIL: (S.INVALID_ARGUMENTS, "Password is the email"),
    R.INVALID_LIMIT: (S.INVALID_ARGUMENTS, "The parameter {name} is invalid"),
    R.NO_IP_ENTRY: (S.INVALID_ARGUMENTS, "The parameter ips is mandatory"),
    R.THROTTLED: (S.AUTHENTICATION_ERROR, "Too many failed sign-ins, try again in {minutes} minutes"),
    R.UNKNOWN_ORGANISATION: (S.UNKNOWN_GLN, "No collectivity, distributor or reseller has GLN {gln}"),
    R.HAS_OWNER: (S.DUPLICATED, "{gln} has its console administrator already ({email})"),
    # The LCP status documents' reasons (a reading app's calls): PNB never meets them.
    R.LICENCE_NOT_FOUND: (S.NOT_FOUND, "This licence does not exist."),
    R.INVALID_DEVICE: (S.INVALID_ARGUMENTS, "The device id and name are invalid."),
    R.RETURNED_BY_ANOTHER_DEVICE: (S.ACCES_DENIED, "The publication was already returned from another device."),
    # The patron space's reasons (its own pages): PNB never meets them.
    R.BAD_PATRON_CREDENTIALS: (S.AUTHENTICATION_ERROR, "Bad credentials"),
    R.STREAMING_ONLY: (S.ACCES_DENIED, "This loan is read online, not downloaded."),
    R.NOT_STREAMING: (S.ACCES_DENIED, "This loan cannot be read online."),
    R.NOT_ON_SITE: (S.ACCES_DENIED, "This book can be read on the library's premises only."),
    R.FILE_NOT_FOUND: (S.NOT_FOUND, "The file of this book is not available."),
    # The distributor console's reasons: PNB never meets them.
    R.OFFER_INVALID: (S.INVALID_ARGUMENTS, "Invalid offer: {detail}"),
    R.EAN_INVALID: (S.INVALID_ARGUMENTS, "The EAN13 {ean13} is invalid"),
    R.OFFER_EXISTS: (S.DUPLICATED, "The EAN13 {ean13} is already offered"),
    R.OFFER_REJECTED: (S.INVALID_ARGUMENTS, "Offer rejected: {detail}"),
    R.SYNC_BUSY: (S.ERROR, "A catalogue sync is running, try again."),
    R.EPUB_INVALID: (S.INVALID_ARGUMENTS, "Not an EPUB file"),
    R.INVALID_TIME_ZONE: (S.INVALID_ARGUMENTS, "Unknown time zone {zone}"),
}

BAD_CREDENTIALS = TABLE[R.BAD_CREDENTIALS][1]
INTERNAL_ERROR = "Internal error"


def answer(refusal: Refused) -> tuple[Status, str]:
    """The PNB returnStatus and returnMessage of a refusal."""
    status, text = TABLE[refusal.reason]
    params = dict(refusal.params)
    if refusal.reason is R.POOL_FULL:
        params["pool_full"] = _POOL_FULL[params["pool"]]
    return status, text.format(**params)


def fields(refusal: Refused) -> dict[str, str]:
    """The refusal as an answer's (or a line's) returnStatus and returnMessage."""
    status, message = answer(refusal)
    return {"returnStatus": status.value, "returnMessage": message}
