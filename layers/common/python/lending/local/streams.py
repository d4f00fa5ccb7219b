"""A DynamoDB stream as Lambda's event source reads it, for the local stack and the tests: the table's
stream through the dynamodbstreams API (DescribeStream, GetShardIterator, GetRecords), the event
source's filter criteria (template.yaml's patterns), and the records handed to a function in batches.
Deployed, Lambda does this itself (its reads of a stream it triggers from are free)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config

BATCH = 10


def client() -> Any:
    # Plain service endpoints: botocore would otherwise address a stream by its account
    # (`<account>.streams-ddb...`), which the in-process emulator does not answer.
    return boto3.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))


def matches(pattern: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    """Lambda's event filtering, as far as template.yaml uses it: nested objects, lists of accepted
    values, `{"exists": true|false}`."""
    for key, want in pattern.items():
        have = record.get(key) if isinstance(record, Mapping) else None
        if isinstance(want, Mapping):
            if not isinstance(have, Mapping) or not matches(want, have):
                return False
        elif isinstance(want, list) and not any(_accepts(w, have, key in record) for w in want):
            return False
    return True


def _accepts(want: Any, have: Any, present: bool) -> bool:
    if isinstance(want, Mapping) and "exists" in want:
        return present == bool(want["exists"])
    return present and have == want


class StreamSource:
    """One table's stream, read from where it was when this source was made (StartingPosition LATEST),
    or from its oldest record (TRIM_HORIZON: the tests' emulator starts empty)."""

    def __init__(self, table_name: str, patterns: list[dict[str, Any]] | None = None,
                 start: str = "LATEST") -> None:
        self.streams = client()
        self.arn = boto3.client("dynamodb").describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        self.patterns = patterns or []
        self.iterators: dict[str, str] = {}
        for shard in self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]:
            self.iterators[shard["ShardId"]] = self.streams.get_shard_iterator(
                StreamArn=self.arn, ShardId=shard["ShardId"], ShardIteratorType=start)["ShardIterator"]

    def poll(self) -> list[dict[str, Any]]:
        """The records written since the last poll that pass the filter, as Lambda hands them over."""
        out: list[dict[str, Any]] = []
        for shard, iterator in list(self.iterators.items()):
            got = self.streams.get_records(ShardIterator=iterator)
            self.iterators[shard] = got.get("NextShardIterator") or iterator
            for r in got.get("Records", []):
                data = dict(r.get("dynamodb", {}))
                when = data.get("ApproximateCreationDateTime")
                if isinstance(when, datetime):  # boto3 parses it; Lambda's event carries epoch seconds
                    data["ApproximateCreationDateTime"] = when.timestamp()
                record = {"eventID": r.get("eventID", ""), "eventName": r.get("eventName"),
                          "eventVersion": "1.1", "eventSource": "aws:dynamodb", "awsRegion": r.get("awsRegion"),
                          "dynamodb": data, "eventSourceARN": self.arn}
                if not self.patterns or any(matches(p, record) for p in self.patterns):
                    out.append(record)
        return out


def batches(records: list[dict[str, Any]], size: int = BATCH) -> list[list[dict[str, Any]]]:
    return [records[i:i + size] for i in range(0, len(records), size)]


_sources: dict[tuple[str, str], StreamSource] = {}


def deliver(fn: Any) -> int:
    """For the tests and the benches (in-process emulator): hand `fn` the records of its stream event
    sources written since the last call, as Lambda would; returns how many. A batch's reported failures
    fail the caller (the function hands a failing receiver to the queue; it reports none)."""
    import os

    from . import functions

    done = 0
    for _table, patterns, _retries in fn.streams:
        name = os.environ["TABLE_NAME"]
        arn = boto3.client("dynamodb").describe_table(TableName=name)["Table"]["LatestStreamArn"]
        source = _sources.get((name, arn))
        if source is None:
            source = _sources[(name, arn)] = StreamSource(name, patterns, start="TRIM_HORIZON")
        for batch in batches(source.poll()):
            result = functions.invoke(fn, {"Records": batch}) or {}
            if result.get("batchItemFailures"):
                raise RuntimeError(f"stream records failed: {result['batchItemFailures']}")
            done += len(batch)
    return done
