"""PNB return codes (returnStatus); order lines keep OK / CANCELLED of them as their state, or REFUSED
with the refusal's reason and parameters.

Refusals are `domain.refusals` (re-exported here for older imports); the PNB door words them."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from .refusals import Reason, Refused

__all__ = ["REFUSED", "Reason", "Refused", "Status", "line_refusal"]


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


REFUSED = "REFUSED"  # an order line refused when ordered; its reason and parameters are stored with it


def line_refusal(item: Mapping[str, Any]) -> Refused | None:
    """Why a stored line was refused when ordered (None for OK / CANCELLED lines and older records,
    whose status and message were stored worded)."""
    if item.get("status") != REFUSED or "reason" not in item:
        return None
    return Refused(Reason(item["reason"]), **item.get("params", {}))
