"""The one factory of boto3 clients (S3, SES, SQS, SSM, CloudFormation), built on first use, once per
container. DynamoDB's client is `store/table.client()`: the one the hot path uses, built at init with
its own connection pool (the local stack serves every function's threads on it).

Keyed by the endpoint in force (AWS_ENDPOINT_URL): tests and the local stack move the hub between
emulators, and a client must never outlive the endpoint it was built for."""

from __future__ import annotations

import os
from typing import Any

# How patient a client is. "quick": an enqueue right after a return must never hold the return up.
PROFILES: dict[str, dict[str, Any]] = {
    "default": {"retries": {"max_attempts": 4, "mode": "standard"}},
    "quick": {"connect_timeout": 2, "read_timeout": 5, "retries": {"max_attempts": 3, "mode": "standard"}},
}
_clients: dict[tuple[str, str, str | None], Any] = {}


def client(service: str, profile: str = "default") -> Any:
    key = (service, profile, os.environ.get("AWS_ENDPOINT_URL"))
    found = _clients.get(key)
    if found is None:
        import boto3
        from botocore.config import Config

        found = _clients[key] = boto3.client(service, config=Config(**PROFILES[profile]))
    return found
