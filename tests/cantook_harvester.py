"""A Cantook-family harvester as rero-ebooks runs one (rero_ebooks/cantook/api.py, ApiCantook): the
same URLs (`{base}/v1/resources.json?start_at=...&page=N`, `&available=1` for the available ids), no
header of its own (a key in the base URL, `http://<key>:@host`, becomes HTTP Basic through requests),
and the same loop: read X-Total-Pages, X-Total-Items and X-Current-Page from the first answer, then ask
page current+1 while the answer is 200 and current <= total pages, current being the X-Current-Page
the last answer named. Written from that description, for the tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Get = Callable[[str], Any]  # url -> a response with status_code, headers (case-insensitive) and json()


@dataclass
class Harvest:
    records: list[dict[str, Any]] = field(default_factory=list)
    total_items: int = 0
    pages_asked: list[str] = field(default_factory=list)


class Harvester:
    def __init__(self, base_url: str, get: Get, max_requests: int = 1000) -> None:
        self.base, self.get, self.max_requests = base_url.rstrip("/"), get, max_requests

    def url(self, start_date: str, page: int) -> str:
        return f"{self.base}/v1/resources.json?start_at={start_date}&page={page}"

    def _walk(self, start_date: str, extra: str, default: int) -> Harvest:
        out = Harvest()
        url = self.url(start_date, 1) + extra
        r = self.get(url)
        out.pages_asked.append(url)
        total_pages = int(r.headers.get("X-Total-Pages", default))
        out.total_items = int(r.headers.get("X-Total-Items", default))
        current = int(r.headers.get("X-Current-Page", default))
        while r.status_code == 200 and current <= total_pages:
            assert len(out.pages_asked) < self.max_requests, "the paging never ends"
            out.records.extend(r.json().get("resources", []))
            url = self.url(start_date, current + 1) + extra
            r = self.get(url)
            out.pages_asked.append(url)
            current = int(r.headers.get("X-Current-Page", 0))
        return out

    def available_ids(self, start_date: str = "1990-01-01") -> Harvest:
        """init_available_ids(): every id of the `available=1` listing."""
        return self._walk(start_date, "&available=1", -1)

    def get_records(self, start_date: str = "1990-01-01") -> Harvest:
        """get_records(): every record; rero raises when their count is not X-Total-Items."""
        out = self._walk(start_date, "", 0)
        assert out.total_items == len(out.records), ("not all records harvested", out.total_items, len(out.records))
        return out
