"""boto3 clients other than DynamoDB's (S3, SES), built on first use, once per container.

Keyed by the endpoint in force (AWS_ENDPOINT_URL): tests and the local stack move the hub between
emulators, and a client must never outlive the endpoint it was built for."""

from __future__ import annotations

import os
from typing import Any

_clients: dict[tuple[str, str | None], Any] = {}


def client(service: str) -> Any:
    key = (service, os.environ.get("AWS_ENDPOINT_URL"))
    found = _clients.get(key)
    if found is None:
        import boto3
        from botocore.config import Config

        found = _clients[key] = boto3.client(service, config=Config(retries={"max_attempts": 4,
                                                                             "mode": "standard"}))
    return found
