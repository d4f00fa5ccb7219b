"""The hub's AWS clients (S3, SES, SQS, SSM, CloudFormation), built on first use, once per container,
from one botocore session. DynamoDB's client is `store/table.client()`: the one the hot path uses, built
at init from the same session with its own connection pool (the local stack serves every function's
threads on it).

Why botocore and not boto3: `boto3.client()` is botocore's `Session.create_client` behind boto3's
default session, and the same credentials, region, endpoint (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>)
and Config resolution, since boto3 delegates all of it; but `import boto3` also loads s3transfer and
multiprocessing, about 17 ms of every cold start (docs/cold-start.md). The one thing boto3 adds to a
client the hub uses: S3's managed transfers (`upload_fileobj`, ...: catalogue sync, FTP files). The
session adds them to its S3 clients as boto3's does, and they import boto3's own code at their first call
only (a job's upload, never a door's request).

Keyed by the endpoint in force (AWS_ENDPOINT_URL): tests and the local stack move the hub between
emulators, and a client must never outlive the endpoint it was built for."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

# How patient a client is. "quick": an enqueue right after a return must never hold the return up.
PROFILES: dict[str, dict[str, Any]] = {
    "default": {"retries": {"max_attempts": 4, "mode": "standard"}},
    "quick": {"connect_timeout": 2, "read_timeout": 5, "retries": {"max_attempts": 3, "mode": "standard"}},
}
_clients: dict[tuple[str, str, str | None], Any] = {}
_session: Any = None
_models: list[Any] = []  # botocore's data loader, kept across reset()

# boto3's S3 client methods (boto3.s3.inject.inject_s3_transfer_methods), the managed transfers.
TRANSFERS = ("upload_file", "download_file", "copy", "upload_fileobj", "download_fileobj")


def session() -> Any:
    """The process's botocore session (as boto3's default session: one per process, credentials resolved
    once), built on first use."""
    global _session
    if _session is None:
        import botocore.session

        found = botocore.session.get_session()
        found.register("creating-client-class.s3", _add_transfers)
        if _models:  # a session after reset(): the service models already read
            found.register_component("data_loader", _models[0])
        else:
            _models.append(found.get_component("data_loader"))
        _session = found
    return _session


def reset() -> None:
    """Forget the session and its clients: moto's mock gives boto3 a fresh default session (its stubber and
    credentials), tests and the local stack do the same here (store.table.reset_client calls it). The
    next session keeps the models' loader (its cache of parsed JSON: ~40 ms a client otherwise)."""
    global _session
    _session = None
    _clients.clear()


def client(service: str, profile: str = "default") -> Any:
    key = (service, profile, os.environ.get("AWS_ENDPOINT_URL"))
    found = _clients.get(key)
    if found is None:
        from botocore.config import Config

        found = _clients[key] = session().create_client(service, config=Config(**PROFILES[profile]))
    return found


def _transfer(name: str) -> Callable[..., Any]:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        from boto3.s3 import inject  # boto3 (and s3transfer) only for a managed transfer

        return getattr(inject, name)(self, *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"boto3's S3 `{name}` (boto3.s3.inject), boto3 imported at the first call."
    return method


def _add_transfers(class_attributes: dict[str, Any], **_: Any) -> None:
    for name in TRANSFERS:
        class_attributes.setdefault(name, _transfer(name))
