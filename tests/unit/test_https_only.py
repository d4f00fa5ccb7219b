"""HTTPS only: callback and notify URLs must be https://, except plain http:// to the machine itself
on the local stack; the console's HTML answers carry HSTS."""

from __future__ import annotations

import pytest

from lending.console.http import HSTS, Response
from lending.notify import guard
from lending.v1 import requests as v1
from lending.warehouse.request import _url


@pytest.mark.parametrize(("url", "local", "ok"), [
    ("https://ils.example/cb", False, True),
    ("http://ils.example/cb", False, False),
    ("http://ils.example/cb", True, False),  # locally too, unless it is loopback
    ("http://127.0.0.1:9/cb", True, True),
    ("http://localhost:9/cb", True, True),
    ("http://[::1]:9/cb", True, True),
    ("http://127.0.0.1:9/cb", False, False),  # deployed: never
    ("ftp://ils.example/cb", True, False),
])
def test_secure_scheme(url: str, local: bool, ok: bool) -> None:
    assert guard.secure_scheme(url, local) is ok


def test_plain_http_is_refused_at_delivery_before_any_lookup() -> None:
    def resolve(*_: object, **__: object) -> list[object]:
        raise AssertionError("no DNS lookup for a refused scheme")

    with pytest.raises(guard.UnsafeUrl, match="https"):
        guard.check("http://ils.example/cb", loopback=False, resolve=resolve)


def test_plain_http_is_refused_where_urls_are_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    from lending.pnb import requests as pnb
    from lending.validation import Invalid, Schema

    monkeypatch.delenv("HUB_LOCAL", raising=False)
    with pytest.raises(ValueError):
        v1.url("http://ils.example/return")
    assert v1.url("https://ils.example/return") == "https://ils.example/return"
    assert not _url("http://lending.example/notify") and _url("https://lending.example/notify")
    callback = Schema({"callbackUrl": pnb.URL})
    with pytest.raises(Invalid, match="must be an https:// URL"):
        callback.validate({"callbackUrl": "http://ils.example/cb"})
    assert callback.validate({"callbackUrl": "https://ils.example/cb"}).callbackUrl == "https://ils.example/cb"
    monkeypatch.setenv("HUB_LOCAL", "1")
    assert _url("http://127.0.0.1:9/notify") and not _url("http://lending.example/notify")


def test_every_console_answer_has_hsts() -> None:
    headers = Response(200, "<p>x</p>").to_answer("nonce").event()["headers"]
    assert headers["Strict-Transport-Security"] == HSTS
    assert int(HSTS.split("max-age=")[1].split(";")[0]) >= 31_536_000
