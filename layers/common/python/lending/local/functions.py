"""Load each function's real handler from its CodeUri, as Lambda would, and invoke it."""

from __future__ import annotations

import importlib.util
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .template import Function

_lock = threading.Lock()
_handlers: dict[str, Callable[[dict[str, Any], Any], Any]] = {}


@dataclass
class LambdaContext:
    """The attributes handlers (and Powertools) read from Lambda's context."""

    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = ""
    invoked_function_arn: str = ""

    def __post_init__(self) -> None:
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:eu-west-3:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def handler(fn: Function) -> Callable[[dict[str, Any], Any], Any]:
    with _lock:
        if fn.name not in _handlers:
            module_name, attr = fn.handler.rsplit(".", 1)
            path = fn.code_uri / f"{module_name.replace('.', '/')}.py"
            spec = importlib.util.spec_from_file_location(f"fn_{fn.name}", path)
            assert spec and spec.loader, path
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
            _handlers[fn.name] = getattr(module, attr)
        return _handlers[fn.name]


def invoke(fn: Function, event: dict[str, Any]) -> Any:
    return handler(fn)(event, LambdaContext(fn.name))
