"""What counts as text in any field the hub reads (every door's requests, ONIX files): pure checks, a
base module (docs/architecture.md) shared by the doors' framework (`lending.web.check_text`) and the
catalogue's ONIX reader, which sit on either side of the layers' line.

Lone surrogates are valid JSON escapes but not Unicode (nothing can encode them back); C0 controls other
than tab, LF and CR, DEL and the noncharacters U+FFFE/U+FFFF belong to no field of any door (XML 1.0
cannot even carry most of them, so JSON and SOAP agree)."""

from __future__ import annotations

import ipaddress
import os
import re
from typing import Any
from urllib.parse import urlsplit

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
NOT_UNICODE = "not valid Unicode text"
CONTROLS = "control characters are not allowed"


def text_problem(text: str) -> str | None:
    """Why `text` is no field's text, or None."""
    if _SURROGATE.search(text):
        return NOT_UNICODE
    if _CONTROL.search(text):
        return CONTROLS
    return None


def first_bad_text(value: Any) -> tuple[str, str] | None:
    """(where, why) of the first string of a decoded request (keys included, at any depth) that is not
    text, or None. `where` is its dotted path (`orderRequestLine.0.ean13`), "" for `value` itself.
    Iterative: a deeply nested value cannot exhaust the stack."""
    todo: list[tuple[str, Any]] = [("", value)]
    while todo:
        path, item = todo.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return path, problem
        elif isinstance(item, dict):
            children: list[tuple[str, Any]] = []
            for k, v in item.items():
                key = str(k)
                problem = text_problem(key)
                if problem:  # a name that cannot be shown: named by where it is
                    return f"{path + '.' if path else ''}(a parameter name)", problem
                children.append((f"{path}.{key}" if path else key, v))
            todo.extend(reversed(children))
        elif isinstance(item, list):
            todo.extend(reversed([(f"{path}.{i}" if path else str(i), v) for i, v in enumerate(item)]))
    return None


def safe_text(text: str) -> str:
    """Text the hub answers with, always encodable: a lone surrogate (only a caller can have put one in a
    value the hub echoes) becomes U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


# --- HTTPS only: where a callback or notify URL is taken, and again at delivery (notify/guard) ---

def allow_loopback() -> bool:
    return os.environ.get("HUB_LOCAL") == "1"


def _loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def secure_scheme(url: str, loopback: bool | None = None) -> bool:
    """HTTPS only: a plain http:// callback or notify URL is refused, except to the machine itself on the
    local stack (HUB_LOCAL=1, where test receivers listen on 127.0.0.1). Checked where a URL is taken
    (PNB callbackUrl, v1 return URLs, warehouse notify_url) and again at delivery."""
    loopback = allow_loopback() if loopback is None else loopback
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and loopback and _loopback_host(parts.hostname or "")


def same_secret(a: str, b: str) -> bool:
    """Constant-time equality of two texts of any content: `hmac.compare_digest` refuses str with
    non-ASCII characters (a TypeError, i.e. a 500 for whoever sends a token or password with an "é" in
    it), so both are compared as UTF-8 bytes (lone surrogates kept as they are)."""
    import hmac

    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))
