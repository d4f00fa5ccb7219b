"""Shared fixtures.

- unit tests use none of these (pure domain, no sockets);
- `memory`: the store in memory (tests/fakes/store.py) with the demo parties and catalogue, for use-case
  unit tests: no emulator, no socket;
- `aws`: moto in-process with the resources of template.yaml and the demo data (integration);
- `stack`: the local stack on free ports, called over HTTP (end-to-end), one per session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from lending.local.emulator import LOCAL_ENV

os.environ.update(LOCAL_ENV)
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")


def pytest_configure(config: pytest.Config) -> None:
    """The ONIX walk in C compiled when out of date (what `make test` does first), before any test module
    imports the reader: a bare `pytest` never tests a stale build."""
    from tools import cext

    cext.build_host()


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The store in memory, installed in place of DynamoDB and SQS for one test (tests/fakes/store.py)."""
    from lending.services import auth
    from tests.fakes import seed
    from tests.fakes.store import MemoryStore

    store = MemoryStore().install(monkeypatch)
    seed.load()
    yield store
    auth.forget()
    assert not store.racers, "a racer was queued but no transaction came to run it: the race was not tested"


@pytest.fixture
def aws() -> Iterator[dict[str, str]]:
    """Emulated AWS in-process: tables, queues and bucket built from template.yaml, demo data loaded."""
    from moto import mock_aws

    from lending.local import demo, moto_patches, resources, template
    from lending.local.stack import POLLING
    from lending.services import auth
    from lending.store import table

    POLLING.clear()  # a session's local stack shares moto's backends: its queue pollers wait meanwhile
    saved = dict(os.environ)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    moto_patches.apply()
    with mock_aws():
        table.reset_client()
        auth.forget()
        tpl = template.load()
        refs = resources.create_all(tpl)
        os.environ.update(resources.environment(tpl, refs, {"PUBLIC_BASE_URL": "http://hub.test",
                                                             "LINK_SIGNING_KEY": "test-signing-key"}))
        demo.load()
        yield refs
    table.reset_client()
    auth.forget()
    os.environ.clear()
    os.environ.update(saved)
    POLLING.set()


@pytest.fixture(scope="session")
def stack() -> Iterator[Any]:
    from lending.local.stack import Stack

    s = Stack(port=0, schedules=False).start()
    yield s
    s.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Unit, then integration, then end-to-end, then browser: the session's local stack (and its queue pollers and
    timers) starts with the first end-to-end test and is never alive while moto's in-process mock is."""
    order = {"unit": 0, "integration": 1, "e2e": 2, "browser": 3}
    # An end-to-end test outside tests/e2e (tests/lcp) says so by its marker.
    items.sort(key=lambda item: 2 if item.get_closest_marker("e2e") and item.path.parent.name != "browser"
               else order.get(item.path.parent.name, 1))
