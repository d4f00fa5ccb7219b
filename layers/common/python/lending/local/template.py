"""template.yaml read with its CloudFormation tags: the one source of routes, tables, queues, schedules."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[5]
TEMPLATE = ROOT / "template.yaml"


class _Loader(yaml.SafeLoader):
    pass


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_Loader.add_multi_constructor("!", _tag)


def load(path: Path = TEMPLATE) -> dict[str, Any]:
    with open(path) as f:
        return yaml.load(f, Loader=_Loader)


@dataclass
class Route:
    method: str
    path: str
    function: str
    pattern: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(self.path))
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", regex)
        self.pattern = re.compile(f"^{regex}$")


@dataclass
class Function:
    name: str
    code_uri: Path
    handler: str
    routes: list[Route]
    schedules: list[str]
    queues: list[str]  # logical ids of SQS event sources
    timeout: int
    # DynamoDB stream event sources: (table logical id, filter patterns, maximum retries)
    streams: list[tuple[str, list[dict[str, Any]], int]] = field(default_factory=list)


def functions(tpl: dict[str, Any]) -> dict[str, Function]:
    glob = tpl.get("Globals", {}).get("Function", {})
    out: dict[str, Function] = {}
    for name, res in tpl["Resources"].items():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        props = res["Properties"]
        routes, schedules, queues = [], [], []
        streams: list[tuple[str, list[dict[str, Any]], int]] = []
        for event in (props.get("Events") or {}).values():
            ep = event.get("Properties", {})
            if event["Type"] in ("HttpApi", "Api"):
                routes.append(Route(ep["Method"].upper(), ep["Path"], name))
            elif event["Type"] in ("Schedule", "ScheduleV2"):
                schedules.append(ep["ScheduleExpression"])
            elif event["Type"] == "SQS":
                queues.append(ep["Queue"]["Fn::GetAtt"][0])
            elif event["Type"] == "DynamoDB":
                filters = (ep.get("FilterCriteria") or {}).get("Filters") or []
                streams.append((ep["Stream"]["Fn::GetAtt"][0],
                                [json.loads(f["Pattern"]) for f in filters], int(ep.get("MaximumRetryAttempts", 3))))
        out[name] = Function(name, ROOT / props["CodeUri"], props.get("Handler", glob.get("Handler")), routes,
                             schedules, queues, int(props.get("Timeout", glob.get("Timeout", 3))), streams)
    return out


def resources(tpl: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {n: r.get("Properties", {}) for n, r in tpl["Resources"].items() if r["Type"] == kind}


def rate_seconds(expression: str) -> float:
    """rate(N unit) in seconds; cron expressions run hourly locally."""
    m = re.match(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression)
    if not m:
        return 3600.0
    n, unit = int(m.group(1)), m.group(2).rstrip("s")
    return n * {"minute": 60, "hour": 3600, "day": 86400}[unit]


def global_environment(tpl: dict[str, Any]) -> dict[str, Any]:
    return dict(tpl.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}))
