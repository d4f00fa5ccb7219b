"""The reference of tests/unit/test_validation_equivalence.py: lending.validation as it was on pydantic-core
(until commit 0e019c9), unchanged but for its imports. The PNB request contract is now validated by
lending.validation in plain Python (cold start, docs/cost.md); this engine stays to prove the two answer
every request alike: same Request, same INVALID_ARGUMENTS message, same field. Tests only: pydantic-core
is a dev requirement, not the layer's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic_core import PydanticCustomError, SchemaValidator, ValidationError
from pydantic_core import core_schema as cs

from lending.domain.dates import PNB_ZONE, YEARS, parse_iso
from lending.domain.identifiers import is_gln
from lending.text import secure_scheme

CoreSchema = Any


class Invalid(Exception):
    """A request that breaks its schema; `message` names the field."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Request(dict[str, Any]):
    """Validated fields: `req.name` reads one; an optional field that was absent reads None."""

    def __getattr__(self, name: str) -> Any:
        return self.get(name)


def _check(predicate: Callable[[Any], bool], kind: str, text: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not predicate(value):
            raise PydanticCustomError(kind, text)
        return value

    return check


def _to_text(value: Any) -> Any:
    """Digits sent as JSON numbers are taken as text (GLN, EAN, ids), never floats or booleans."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def text(pattern: str | None = None, max_length: int | None = None, min_length: int = 1) -> CoreSchema:
    return cs.no_info_before_validator_function(
        _to_text, cs.str_schema(pattern=pattern, max_length=max_length, min_length=min_length, strip_whitespace=True))


def _secure(value: Any) -> bool:
    return isinstance(value, str) and secure_scheme(value)


def https_url(max_length: int = 2048) -> CoreSchema:
    """An https:// URL (plain http:// only to loopback on the local stack: text.secure_scheme)."""
    return cs.no_info_after_validator_function(
        _check(_secure, "url", "must be an https:// URL"), text(r"^https?://", max_length=max_length),
        metadata={"kind": "url"})


def gln() -> CoreSchema:
    """13 digits with a valid GS1 check digit (GLN and EAN-13 alike)."""
    return cs.no_info_after_validator_function(
        _check(is_gln, "gln", "must be 13 digits with a valid check digit"), text(max_length=13),
        metadata={"kind": "gln"})


def _date(value: Any) -> datetime:
    parsed = parse_iso(value, naive_zone=PNB_ZONE)
    if parsed is None:
        raise PydanticCustomError("iso_date", f"must be an ISO 8601 date yyyy-mm-ddThh:mm:ssTZD, {YEARS}")
    return parsed


def iso_date() -> CoreSchema:
    return cs.no_info_plain_validator_function(_date, metadata={"kind": "date"})


def integer(ge: int | None = None, le: int | None = None) -> CoreSchema:
    # Strict: a JSON true, "1" or 1.0 is not the spec's integer (a quantity of true must not buy a licence).
    # The SOAP door hands over ints already, decoded by the XSD's types.
    return cs.int_schema(ge=ge, le=le, strict=True)


def boolean() -> CoreSchema:
    return cs.bool_schema()


def choice(*values: str) -> CoreSchema:
    return cs.literal_schema(list(values))


def any_dict() -> CoreSchema:
    return cs.dict_schema()


def lines(schema: Schema) -> CoreSchema:
    """An object validated later on its own by `schema` (an order's lines: each line refused alone)."""
    return cs.dict_schema(metadata={"kind": "lines", "schema": schema})


def _as_list(value: Any) -> Any:
    """One element where the spec has an array is taken as an array of one (SOAP and JSON alike)."""
    return value if isinstance(value, list) or value is None else [value]


def listof(item: CoreSchema, min_length: int = 0, max_length: int | None = None) -> CoreSchema:
    return cs.no_info_before_validator_function(
        _as_list, cs.list_schema(item, min_length=min_length, max_length=max_length))


def nullable(schema: CoreSchema) -> CoreSchema:
    return cs.nullable_schema(schema)


def record(fields: dict[str, CoreSchema]) -> CoreSchema:
    """A sub-object whose fields are all optional (DRMinfo.*, userInfo.*); unknown ones are ignored."""
    return cs.typed_dict_schema({n: cs.typed_dict_field(cs.nullable_schema(s), required=False)
                                 for n, s in fields.items()}, extra_behavior="ignore")


class Schema:
    """A request shape: `fields` maps names to schemas; `optional` names those that may be absent."""

    def __init__(self, fields: dict[str, CoreSchema], optional: tuple[str, ...] = (),
                 defaults: dict[str, Any] | None = None, private: tuple[str, ...] = ()) -> None:
        self.names = tuple(fields)
        self.fields, self.optional = fields, optional
        self.private = private  # fields whose values an error message never repeats (personal data)
        self.defaults = defaults or {}
        self._validator: SchemaValidator | None = None

    def prepare(self) -> SchemaValidator:
        """The validator, built at first use: a door module declares every operation's schema, and a
        function that serves one operation builds that one's alone."""
        if self._validator is None:
            td = {name: cs.typed_dict_field(cs.nullable_schema(s) if name in self.optional else s,
                                            required=name not in self.optional and name not in self.defaults)
                  for name, s in self.fields.items()}
            self._validator = SchemaValidator(cs.typed_dict_schema(td, extra_behavior="ignore"))
        return self._validator

    def validate(self, data: Any) -> Request:
        try:
            out = self.prepare().validate_python(data)
        except ValidationError as e:
            raise Invalid(*describe(e, self.private)) from None
        req = Request({n: self.defaults.get(n) for n in self.names})
        req.update({k: v for k, v in out.items() if v is not None})
        return req


def describe(error: ValidationError, private: tuple[str, ...] = ()) -> tuple[str, str]:
    """The first problem, named by its field path (INVALID_ARGUMENTS' message), and that path."""
    first = error.errors()[0]
    if first["loc"] and first["loc"][0] in private:
        first = {**first, "input": None}
    where = ".".join(str(p) for p in first["loc"] if not isinstance(p, str) or not p.startswith("function-"))
    where = where or "request"
    if first["type"] == "missing":
        return f"The parameter {where} is mandatory", where
    got = first.get("input")
    shown = f" : {got}" if isinstance(got, str | int) and len(str(got)) <= 64 else ""
    return f"The parameter {where}{shown} is invalid: {first['msg']}", where
