"""Request schemas at the edges: a small validator in plain Python.

A schema is the one description of a request: the doors validate with it, and each field's rule is plain
data (`kind`, pattern, lengths, bounds, values, items, nested fields), so a test can hold another
description (pnb.xsd) to it (tests/unit/test_pnb_contract.py). A schema is a dict of fields; validation
returns a `Request` (attribute access, absent optional fields None) or raises `Invalid` naming the first
field that breaks it.

Why not a schema library: `from pydantic import BaseModel` alone costs ~65 ms of every cold start (a third
of boto3's own). pydantic-core, the same engine without the models, was the choice until every PNB
function had to come near 1.15 times the bare boto3 baseline: its package always imports
`pydantic_core.core_schema` (84 TypedDicts built at import) although the hub hands the validator plain
dicts. Measured from the built layer (bytecode shipped; CPU time, this shared 2-core machine, baseline
`import boto3` + one client 220-260 ms): `import lending.pnb.requests` after boto3 took 31 ms with
pydantic-core, 2.6 ms now (15 runs each); `import pydantic_core` after a PNB function's own init still
costs 17-22 ms (loanBook, SOAP; 15 runs); whole functions, old and new layer taking turns (9 runs each,
all 17 PNB functions, a loaded machine): about 10 ms less CPU per function (5-25), the ratio 1.19-1.34
-> 1.16-1.28 (loanBook 1.31 -> 1.28, SOAP 1.29 -> 1.25). A warm request pays a little more: validating
a loanBook ~50 us against ~40 us (an order of 99 lines ~4.1 ms against ~3.7 ms).

This validator keeps pydantic-core's behaviour and words exactly (lax strings stripped as Rust's `trim`
does, strict integers, lax booleans, the first error in field order; messages such as "String should
have at most 13 characters" are part of PNB's INVALID_ARGUMENTS texts): the differential test
tests/unit/test_validation_equivalence.py runs both engines on edge values and generated requests for
every PNB schema, pydantic-core kept as the test's reference (tests/validation_reference.py, a dev
requirement only). What the doors hand over is what is covered: JSON values (dict, list, str, int, float,
bool, None), which the SOAP codec's are too. Cold start: docs/cost.md."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .domain.dates import PNB_ZONE, YEARS, parse_iso
from .domain.identifiers import is_gln
from .text import secure_scheme

# What pydantic-core's strip_whitespace removes (Rust's char::is_whitespace): str.strip() would also take
# the separators \x1c-\x1f.
_WHITESPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
              "\u2028\u2029\u202f\u205f\u3000"
_I64 = 2**63
_TRUE = frozenset({"1", "t", "y", "on", "yes", "true"})
_FALSE = frozenset({"0", "f", "n", "no", "off", "false"})


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


class Problem(Exception):
    """The first problem of a value: what the rule says (None: a mandatory field is absent), the value the
    rule was given, and where (field names and list indexes, outermost first)."""

    def __init__(self, words: str | None, value: Any, loc: tuple[str | int, ...] = ()) -> None:
        super().__init__(words)
        self.words, self.value, self.loc = words, value, loc


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _string(value: Any) -> str:
    """Lax text as pydantic-core takes it: a str that is valid Unicode (no lone surrogate)."""
    if not isinstance(value, str):
        raise Problem("Input should be a valid string", value)
    if not value.isascii():
        _unicode(value)
    return value


def _unicode(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Problem("Input should be a valid string, unable to parse raw data as a unicode string", value) from None


class Rule:
    """One field's rule: `kind` and its parameters are what the contract test reads; `check` returns the
    validated value or raises Problem."""

    kind = ""

    def check(self, value: Any) -> Any:
        raise NotImplementedError

    def prepare(self) -> None:
        """Work done once (a pattern compiled): at init where a function serves one operation."""


class Text(Rule):
    """Text, stripped; digits sent as JSON numbers are taken as text (GLN, EAN, ids), never floats or
    booleans. `test` and `words`: a further rule on the stripped text (gln, url)."""

    def __init__(self, pattern: str | None = None, max_length: int | None = None, min_length: int = 1,
                 kind: str = "text", test: Callable[[str], bool] | None = None, words: str = "") -> None:
        self.kind, self.pattern, self.max_length, self.min_length = kind, pattern, max_length, min_length
        self.test, self.words = test, words
        self._search: Callable[[str], Any] | None = None

    def prepare(self) -> None:
        if self.pattern is not None and self._search is None:
            self._compiled()

    def _compiled(self) -> Callable[[str], Any]:
        # pydantic-core's `$` is the end of the text (Rust regex); Python's also matches before a final
        # newline, which stripping has already removed. Both search (the patterns anchor themselves).
        self._search = re.compile(self.pattern or "").search
        return self._search

    def check(self, value: Any) -> Any:
        got = value
        if not isinstance(got, str):
            if not isinstance(got, int) or isinstance(got, bool):
                raise Problem("Input should be a valid string", value)
            got = str(got)
        elif not got.isascii():
            _unicode(got)
        s = got.strip(_WHITESPACE)
        n = len(s)
        if n < self.min_length:
            raise Problem(f"String should have at least {_plural(self.min_length, 'character')}", got)
        if self.max_length is not None and n > self.max_length:
            raise Problem(f"String should have at most {_plural(self.max_length, 'character')}", got)
        if self.pattern is not None and (self._search or self._compiled())(s) is None:
            raise Problem(f"String should match pattern '{self.pattern}'", got)
        if self.test is not None and not self.test(s):
            raise Problem(self.words, value)
        return s


class Date(Rule):
    kind = "date"

    def check(self, value: Any) -> Any:
        parsed = parse_iso(value, naive_zone=PNB_ZONE)
        if parsed is None:
            raise Problem(f"must be an ISO 8601 date yyyy-mm-ddThh:mm:ssTZD, {YEARS}", value)
        return parsed


class Integer(Rule):
    """Strict: a JSON true, "1" or 1.0 is not the spec's integer (a quantity of true must not buy a
    licence). The SOAP door hands over ints already, decoded by the XSD's types."""

    kind = "int"

    def __init__(self, ge: int | None = None, le: int | None = None) -> None:
        self.ge, self.le = ge, le

    def check(self, value: Any) -> Any:
        if not isinstance(value, int) or isinstance(value, bool):
            raise Problem("Input should be a valid integer", value)
        if self.le is not None and value > self.le:
            raise Problem(f"Input should be less than or equal to {self.le}", value)
        if self.ge is not None and value < self.ge:
            raise Problem(f"Input should be greater than or equal to {self.ge}", value)
        return value


class Boolean(Rule):
    """Lax, as pydantic-core: true/false, 0/1 (whole floats too), and yes/no, on/off, t/f, y/n in any case."""

    kind = "bool"

    def check(self, value: Any) -> Any:
        if isinstance(value, bool):
            return value
        number: int | None = None
        if isinstance(value, str):
            word = _string(value)
            if word.isascii():  # the words in any ASCII case
                word = word.lower()
                if word in _TRUE:
                    return True
                if word in _FALSE:
                    return False
            raise Problem("Input should be a valid boolean, unable to interpret input", value)
        if isinstance(value, int):
            number = value if -_I64 <= value < _I64 else None
        elif isinstance(value, float) and value == value and -_I64 < value < _I64 and value.is_integer():
            number = int(value)
        if number is None:
            raise Problem("Input should be a valid boolean", value)
        if number in (0, 1):
            return number == 1
        raise Problem("Input should be a valid boolean, unable to interpret input", value)


class Choice(Rule):
    kind = "choice"

    def __init__(self, *values: str) -> None:
        self.values = values

    def check(self, value: Any) -> Any:
        if isinstance(value, str) and value in self.values:
            return value
        if isinstance(value, str):
            _string(value)
        quoted = [repr(v) for v in self.values]
        either = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
        raise Problem(f"Input should be {either}", value)


class Lines(Rule):
    """An object validated later on its own by `schema` (an order's lines: each line refused alone)."""

    kind = "lines"

    def __init__(self, schema: Schema) -> None:
        self.schema = schema

    def check(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise Problem("Input should be a valid dictionary", value)
        return dict(value)


class ListOf(Rule):
    """One element where the spec has an array is taken as an array of one (SOAP and JSON alike)."""

    kind = "list"

    def __init__(self, item: Rule, min_length: int = 0, max_length: int | None = None) -> None:
        self.item, self.min_length, self.max_length = item, min_length, max_length

    def prepare(self) -> None:
        self.item.prepare()

    def check(self, value: Any) -> Any:
        if not isinstance(value, list):
            if value is None:
                raise Problem("Input should be a valid list", value)
            value = [value]
        n = len(value)
        if self.max_length is not None and n > self.max_length:
            raise Problem(f"List should have at most {_plural(self.max_length, 'item')} after validation, not {n}",
                          value)
        out = []
        for i, item in enumerate(value):
            try:
                out.append(self.item.check(item))
            except Problem as p:
                p.loc = (i, *p.loc)
                raise
        if n < self.min_length:
            raise Problem(f"List should have at least {_plural(self.min_length, 'item')} after validation, not {n}",
                          value)
        return out


def _fields(rules: dict[str, Rule], data: dict[str, Any], optional: tuple[str, ...] | dict[str, Rule],
            required: Callable[[str], bool]) -> dict[str, Any]:
    """The fields of an object, in the rules' order; the first problem stops (it is the one reported)."""
    out: dict[str, Any] = {}
    for name, rule in rules.items():
        if name not in data:
            if required(name):
                raise Problem(None, None, (name,))
            continue
        value = data[name]
        if value is None and name in optional:
            out[name] = None
            continue
        try:
            out[name] = rule.check(value)
        except Problem as p:
            p.loc = (name, *p.loc)
            raise
    return out


class Record(Rule):
    """A sub-object whose fields are all optional (DRMinfo.*, userInfo.*); unknown ones are ignored."""

    kind = "record"

    def __init__(self, fields: dict[str, Rule]) -> None:
        self.fields = fields

    def prepare(self) -> None:
        for rule in self.fields.values():
            rule.prepare()

    def check(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise Problem("Input should be a valid dictionary", value)
        return _fields(self.fields, value, self.fields, _never)


def _never(_: str) -> bool:
    return False


def text(pattern: str | None = None, max_length: int | None = None, min_length: int = 1) -> Text:
    return Text(pattern, max_length, min_length)


def https_url(max_length: int = 2048) -> Text:
    """An https:// URL (plain http:// only to loopback on the local stack: text.secure_scheme)."""
    return Text(r"^https?://", max_length, kind="url", test=secure_scheme, words="must be an https:// URL")


def gln() -> Text:
    """13 digits with a valid GS1 check digit (GLN and EAN-13 alike)."""
    return Text(max_length=13, kind="gln", test=is_gln, words="must be 13 digits with a valid check digit")


def iso_date() -> Date:
    return Date()


def integer(ge: int | None = None, le: int | None = None) -> Integer:
    return Integer(ge, le)


def boolean() -> Boolean:
    return Boolean()


def choice(*values: str) -> Choice:
    return Choice(*values)


def lines(schema: Schema) -> Lines:
    return Lines(schema)


def listof(item: Rule, min_length: int = 0, max_length: int | None = None) -> ListOf:
    return ListOf(item, min_length, max_length)


def record(fields: dict[str, Rule]) -> Record:
    return Record(fields)


class Schema:
    """A request shape: `fields` maps names to rules; `optional` names those that may be absent (or
    null); a field with a default may be absent, not null."""

    def __init__(self, fields: dict[str, Rule], optional: tuple[str, ...] = (),
                 defaults: dict[str, Any] | None = None, private: tuple[str, ...] = ()) -> None:
        self.names = tuple(fields)
        self.fields, self.optional = fields, optional
        self.private = private  # fields whose values an error message never repeats (personal data)
        self.defaults = defaults or {}

    def prepare(self) -> None:
        """Compile its patterns: a door module declares every operation's schema, and a function that
        serves one operation prepares that one's alone, at init."""
        for rule in self.fields.values():
            rule.prepare()

    def _required(self, name: str) -> bool:
        return name not in self.optional and name not in self.defaults

    def validate(self, data: Any) -> Request:
        try:
            if not isinstance(data, dict):
                raise Problem("Input should be a valid dictionary", data)
            out = _fields(self.fields, data, self.optional, self._required)
        except Problem as p:
            raise Invalid(*describe(p, self.private)) from None
        req = Request({n: self.defaults.get(n) for n in self.names})
        req.update({k: v for k, v in out.items() if v is not None})
        return req


def describe(problem: Problem, private: tuple[str, ...] = ()) -> tuple[str, str]:
    """The first problem, named by its field path (INVALID_ARGUMENTS' message), and that path."""
    where = ".".join(str(p) for p in problem.loc) or "request"
    if problem.words is None:
        return f"The parameter {where} is mandatory", where
    got = None if problem.loc and problem.loc[0] in private else problem.value
    shown = f" : {got}" if isinstance(got, str | int) and len(str(got)) <= 64 else ""
    return f"The parameter {where}{shown} is invalid: {problem.words}", where
