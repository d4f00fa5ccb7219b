"""PNB return codes (returnStatus); order lines keep OK / CANCELLED of them as their state.

Refusals are `domain.refusals` (re-exported here for older imports); the PNB door words them."""

from __future__ import annotations

from enum import StrEnum

from .refusals import Reason, Refused

__all__ = ["Reason", "Refused", "Status"]


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
