"""Create the template's tables, queues and buckets on the emulator; resolve the functions' env."""

from __future__ import annotations

import json
from typing import Any

import boto3

from . import template as tpl_mod

LOCAL_PREFIX = "lending-local"


def physical_name(logical: str) -> str:
    return f"{LOCAL_PREFIX}-{logical}".lower()


def create_all(tpl: dict[str, Any]) -> dict[str, str]:
    """Create every resource; return what !Ref / !GetAtt of each resolves to locally."""
    refs: dict[str, str] = {}
    ddb = boto3.client("dynamodb")
    for logical, props in tpl_mod.resources(tpl, "AWS::DynamoDB::Table").items():
        name = props.get("TableName") or physical_name(logical)
        args: dict[str, Any] = {k: props[k] for k in ("AttributeDefinitions", "KeySchema", "BillingMode") if k in props}
        if props.get("GlobalSecondaryIndexes"):
            args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("StreamSpecification"):  # the callbacks' first tries read it (local/streams.py)
            args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        try:
            ddb.create_table(TableName=name, **args)
            if props.get("TimeToLiveSpecification"):
                ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=props["TimeToLiveSpecification"])
        except ddb.exceptions.ResourceInUseException:
            pass
        refs[logical] = name
    sqs = boto3.client("sqs")
    queues = tpl_mod.resources(tpl, "AWS::SQS::Queue")
    # Dead-letter queues first: the others point at them.
    for logical, props in sorted(queues.items(), key=lambda kv: "RedrivePolicy" in kv[1]):
        kept = ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds")
        attributes: dict[str, str] = {k: str(props[k]) for k in kept if k in props}
        if "RedrivePolicy" in props:
            policy = dict(props["RedrivePolicy"])
            target = policy["deadLetterTargetArn"]["Fn::GetAtt"][0]
            policy["deadLetterTargetArn"] = refs[f"{target}.Arn"]
            attributes["RedrivePolicy"] = json.dumps(policy)
        url = sqs.create_queue(QueueName=physical_name(logical), Attributes=attributes)["QueueUrl"]
        refs[logical] = url
        refs[f"{logical}.Arn"] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
    s3 = boto3.client("s3")
    for logical in tpl_mod.resources(tpl, "AWS::S3::Bucket"):
        name = physical_name(logical)
        try:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass
        refs[logical] = name
    return refs


def environment(tpl: dict[str, Any], refs: dict[str, str], overrides: dict[str, str]) -> dict[str, str]:
    """The Globals environment with !Ref resolved; parameters come from `overrides`."""
    env: dict[str, str] = {}
    for key, value in tpl_mod.global_environment(tpl).items():
        if isinstance(value, str):
            env[key] = value
        elif isinstance(value, dict) and "Ref" in value and value["Ref"] in refs:
            env[key] = refs[value["Ref"]]
    env.update(overrides)
    return env
