"""PNB return codes (returnStatus) and the failure every rule raises to carry one."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    OK = "OK"
    WARNING = "WARNING"
    ERROR = "ERROR"
    INVALID_ARGUMENTS = "INVALID_ARGUMENTS"
    AUTHENTICATION_ERROR = "AUTHENTICATION_ERROR"
    ACCES_DENIED = "ACCES_DENIED"  # sic: the spec's spelling
    NOT_IMPLEMENTED = "NOT_IMPLEMENTED"
    NOT_FOUND = "NOT_FOUND"
    UNKNOWN_GLN = "UNKNOWN_GLN"
    DUPLICATED = "DUPLICATED"
    CANCELLED = "CANCELLED"
    DATE_TOO_OLD = "DATE_TOO_OLD"
    PRODUCT_CANNOT_BE_SOLD = "PRODUCT_CANNOT_BE_SOLD"
    INVALID_PRICE = "INVALID_PRICE"
    PRODUCT_CANNOT_BE_LOAN = "PRODUCT_CANNOT_BE_LOAN"
    MAX_LOAN_QUANTITY_REACHED = "MAX_LOAN_QUANTITY_REACHED"
    MAX_SIMULTANEOUS_LOAN_REACHED = "MAX_SIMULTANEOUS_LOAN_REACHED"
    LOAN_DURATION_EXPIRED = "LOAN_DURATION_EXPIRED"


BAD_CREDENTIALS = "Bad credentials"
AUTHORIZATION_FAILURE = "Authorization failure"
INTERNAL_ERROR = "Internal error"


class Refused(Exception):
    """A rule said no: carries the PNB code and the spec's message.

    Every door maps it to its own words (PNB returnStatus, v1 HTTP status, warehouse error name)."""

    def __init__(self, status: Status, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        # A protocol-neutral reason ("pool_full", "nta_exhausted", ...) for doors other than PNB.
        self.reason = reason or status.value.lower()


def rollup(service: str, line_statuses: list[str]) -> tuple[Status, str | None]:
    """Request status from line statuses: OK when every line is OK, else WARNING (spec, base codes)."""
    bad = sum(1 for s in line_statuses if s != Status.OK)
    if not line_statuses or bad == 0:
        return Status.OK, None
    if bad == len(line_statuses):
        return Status.WARNING, f"All {service} lines are returned with error"
    return Status.WARNING, f"Some {service} lines are returned with error"
