"""GLN, EAN-13 and PNB identifiers: formats and check digits.

The GS1 mod-10 check digit is computed here rather than with python-stdnum: importing stdnum.util
pulls in pydoc, inspect and ssl, about 5% of every function's cold start for three lines of
arithmetic. The unit tests prove this agrees with stdnum on every check digit."""

from __future__ import annotations

import re
import secrets

_ALNUM = re.compile(r"^[A-Za-z0-9]+$")
PASSWORD_MAX = 25  # a PNB password: alphanumeric, at most 25 characters (the spec's)
_ORDER_LINE_ID = re.compile(r"^[0-9]{24}$")


def is_gln(value: object) -> bool:
    """A GLN is 13 digits whose last is the GS1 check digit (same arithmetic as EAN-13). ASCII digits
    only: str.isdigit() also takes "²", on which the check digit's int() fails."""
    return (isinstance(value, str) and len(value) == 13 and value.isascii() and value.isdigit()
            and _check(value))


is_ean13 = is_gln


def gs1_check_digit(digits: str) -> str:
    """GS1 mod-10: weights 3 and 1 from the right of the payload."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def _check(value: str) -> bool:
    """`value` is 13 ASCII digits (is_gln's test): gs1_check_digit's sum, from the bytes' codes, as the
    ONIX reader checks one per record (is_gln in less than half the time; the unit tests compare both)."""
    b = value.encode("ascii")
    total = 3 * (b[11] + b[9] + b[7] + b[5] + b[3] + b[1]) + b[10] + b[8] + b[6] + b[4] + b[2] + b[0] - 4 * 48 * 6
    return (10 - total % 10) % 10 == b[12] - 48


def is_alnum(value: object, max_len: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= max_len and bool(_ALNUM.match(value))


def is_order_line_id(value: object) -> bool:
    return isinstance(value, str) and bool(_ORDER_LINE_ID.match(value))


def new_order_line_id(now_ms: int) -> str:
    """24 digits: 13 of milliseconds (sortable, readable) then 11 random ones (unguessable enough)."""
    return f"{now_ms:013d}{secrets.randbelow(10**11):011d}"


def with_check_digit(twelve: str) -> str:
    """Complete 12 digits into a valid GLN/EAN-13 (demo data and tests)."""
    return twelve + gs1_check_digit(twelve)


# A lending system's identifier (warehouse `bill_drm_to`): alphanumeric with the usual separators, never
# a path (no "/" nor a leading "."), short enough to name a file of the DRM report.
# as text: `re` compiles a pattern at its first use (and caches it), not at every cold start
_LENDING_SYSTEM = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


def is_lending_system_id(value: object) -> bool:
    return isinstance(value, str) and bool(re.match(_LENDING_SYSTEM, value))
