"""The PNB request contract's validator (lending.validation, plain Python) against the engine it replaced:
pydantic-core, kept as the reference (tests/validation_reference.py, the former lending.validation). Every
PNB schema is described again in the reference engine from its own rules, and both run on the same
requests: hand-picked edge values for every rule, then generated requests (valid ones, missing fields,
wrong types, numbers as text, over-long texts and lists, bad GLNs, dates and URLs, nested lines and
records). The same Request (values and types, in order) or the same Invalid (message and field), always.

`VALIDATION_EXAMPLES=5000 .venv/bin/python -m pytest tests/unit/test_validation_equivalence.py` for a
longer run (100 requests per schema otherwise)."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lending import validation as v
from lending.domain.identifiers import gs1_check_digit
from lending.pnb import operations
from lending.pnb import requests as rq
from tests import validation_reference as ref

EXAMPLES = int(os.environ.get("VALIDATION_EXAMPLES", "100"))


def to_ref(rule: Any) -> Any:
    """The same description, in the reference engine's helpers."""
    if isinstance(rule, v.Schema):
        return ref.Schema({n: to_ref(r) for n, r in rule.fields.items()}, optional=rule.optional,
                          defaults=rule.defaults, private=rule.private)
    kind = rule.kind
    if kind == "text":
        return ref.text(rule.pattern, rule.max_length, rule.min_length)
    if kind == "gln":
        assert (rule.pattern, rule.max_length, rule.min_length) == (None, 13, 1)
        return ref.gln()
    if kind == "url":
        assert (rule.pattern, rule.min_length) == (r"^https?://", 1)
        return ref.https_url(rule.max_length)
    if kind == "date":
        return ref.iso_date()
    if kind == "int":
        return ref.integer(rule.ge, rule.le)
    if kind == "bool":
        return ref.boolean()
    if kind == "choice":
        return ref.choice(*rule.values)
    if kind == "list":
        return ref.listof(to_ref(rule.item), rule.min_length, rule.max_length)
    if kind == "lines":
        return ref.lines(to_ref(rule.schema))
    if kind == "record":
        return ref.record({n: to_ref(r) for n, r in rule.fields.items()})
    raise AssertionError(f"no reference for the rule {kind}")


def _schemas() -> dict[str, v.Schema]:
    found = {f"operation {n}": op.schema for n, op in operations.OPERATIONS.items()}
    found |= {f"rq.{n}": s for n, s in vars(rq).items() if isinstance(s, v.Schema)}
    out: dict[str, v.Schema] = {}
    for name, schema in sorted(found.items()):
        if all(schema is not s for s in out.values()):
            out[name] = schema
    return out


SCHEMAS = _schemas()
REFS = {name: to_ref(schema) for name, schema in SCHEMAS.items()}


def outcome(schema: Any, data: Any) -> tuple[Any, ...]:
    try:
        req = schema.validate(data)
    except (v.Invalid, ref.Invalid) as e:
        return ("invalid", e.message, e.field)
    return ("ok", [(k, type(x).__name__, repr(x)) for k, x in req.items()])


def same(schema: v.Schema, reference: Any, data: Any) -> None:
    mine, theirs = outcome(schema, data), outcome(reference, data)
    assert mine == theirs, f"for {data!r}"


# --- edge values, rule by rule ---------------------------------------------------------------------------

SPACES = "\t\n\x0b\x0c\r \x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u200a\u200b\u2028\u2029\u202f\u205f\u3000\u180e\ufeff"
ODD = ["\ud800", "F\udfffR", "é", "²", "٣٣", "FR\n", "\nFR", "fr", "FRA", "F R"]
JUNK: list[Any] = [None, True, False, 0, 1, 2, -1, 1.0, 0.0, -0.0, 1.5, float("nan"), float("inf"), float("-inf"),
                   2**63 - 1, 2**63, -2**63, -2**63 - 1, 2**70, -2**70, 10**40, 2.0, -1.0, 1e19, 9.2e18, -9.3e18,
                   2.0**63, -2.0**63, 9.223372036854775e18, -9.223372036854775e18, 1e300, "", " ", "0", "1",
                   "true", "TRUE", "True", " true", "yes", "Yes", "on", "OFF", "t", "F", "y", "N", "no", "2",
                   "ﬁ", "ＴＲＵＥ", [], [1], {}, {"a": 1}, (), ("x",), "DOWNLOAD", "download", " DOWNLOAD",
                   "STREAMING", "IN_SITU", "x" * 70, "1" * 70, 3012345678901, "3012345678901", "3770002350003",
                   3770002350003, " 3770002350003 ", "377000235000", "37700023500031", "http://a.example",
                   "https://a.example", " https://a.example\n", "ftp://x", "HTTPS://a", "http://127.0.0.1:9/cb",
                   "http://localhost/cb", "http://[::1]/cb", "https://[", "2024-01-01T00:00:00Z",
                   "2024-01-01T00:00:00", "2024-01-01T00:00:00+0100", " 2024-01-01T00:00:00Z", "1969-12-31T23:59:59Z",
                   "2999-12-31T23:59:59+01:00", "٢٠٢٤-01-01T00:00:00Z", "2024-02-30T00:00:00Z", 20240101,
                   *[c + "FR" for c in SPACES], *["FR" + c for c in SPACES], *ODD, *SPACES]
RULES = {"text": rq.ALNUM16, "loan id": rq.LOAN_ID, "order line id": rq.ORDER_LINE_ID, "country": rq.COUNTRY,
         "cents": rq.CENTS, "quantity": v.integer(), "url": rq.URL, "ip": rq.IP, "medium": rq.MEDIUM,
         "gln": v.gln(), "date": v.iso_date(), "bool": v.boolean(), "one text": v.text(max_length=1),
         "two texts": v.text(min_length=2), "no text": v.text(min_length=0, max_length=0),
         "one choice": v.choice("A"), "three choices": v.choice("A", "B", "C"),
         "list": v.listof(rq.ORDER_LINE_ID, max_length=2), "one item": v.listof(v.text(), 1, 1),
         "two items": v.listof(v.text(), 2, 3), "lines": v.listof(v.lines(rq.CHECK_AVAILABILITY_LINE), 1, 2),
         "drm": rq.DRM_INFO, "user": rq.USER_INFO, "year": v.text(r"^[0-9]{4}$")}


@pytest.mark.parametrize("local", [False, True], ids=["deployed", "local stack"])
@pytest.mark.parametrize("name", sorted(RULES))
def test_every_rule_answers_the_edge_values_as_the_reference(name: str, local: bool) -> None:
    field = v.Schema({"f": RULES[name]}, optional=("g",))
    reference = to_ref(field)
    values = [*JUNK, [*JUNK[:3]], ["1" * 24, "x"], [{"ean13": "x"}], [{}, {}, {}], {"userAgent": None},
              {"readerPass": "p", "extendUrl": "http://a"}, {"year": 2024}, {"year": "20244"}, {"gender": 1}]
    with mock.patch.dict(os.environ, {"HUB_LOCAL": "1" if local else "0"}):
        for value in values:
            same(field, reference, {"f": value})
        same(field, reference, {})
        for body in ("x", 1, None, [], [{"f": "1"}]):  # not an object at all
            same(field, reference, body)


def test_a_private_field_is_never_repeated() -> None:
    with pytest.raises(v.Invalid) as e:
        rq.LOAN_BOOK.validate({"DRMinfo": {"readerPass": "p" * 1000}})
    assert "ppp" not in e.value.message
    for body in ({"DRMinfo": {"readerHint": 5 * "secret"}}, {"userInfo": {"year": "secret"}}, {"userInfo": "secret"}):
        same(rq.LOAN_BOOK, to_ref(rq.LOAN_BOOK), {**_valid_loan(), **body})


def _valid_loan() -> dict[str, Any]:
    return {"orderLineId": "1" * 24, "loanId": "L1", "ean13": "3770002350003", "accessMedium": "DOWNLOAD",
            "localization": "EX_SITU", "loanEndDate": "2030-01-01T00:00:00Z"}


def test_the_reference_is_not_vacuous() -> None:
    """A valid loan passes both, and a request both refuse is refused for the same first field."""
    valid = _valid_loan()
    assert outcome(rq.LOAN_BOOK, valid)[0] == "ok"
    same(rq.LOAN_BOOK, to_ref(rq.LOAN_BOOK), valid)
    assert outcome(rq.LOAN_BOOK, {**valid, "ean13": "3770002350002", "loanId": "é"}) == (
        "invalid", "The parameter loanId : é is invalid: String should match pattern '^[A-Za-z0-9_\\-]{1,24}$'",
        "loanId")


# --- generated requests ----------------------------------------------------------------------------------

NOISE = st.text(st.sampled_from(SPACES + "\ud800é²a1 ") | st.characters(), min_size=1, max_size=2)
BLANKS = st.text(st.sampled_from(" \t\n\xa0\u3000"), max_size=2)  # what stripping takes away
JUNKS = st.one_of(st.sampled_from(JUNK), st.none(), st.booleans(), st.integers(), st.floats(),
                  st.text(max_size=6), st.lists(st.integers(), max_size=2),
                  st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
STAMPS = st.datetimes(min_value=datetime(1960, 1, 1), max_value=datetime(3010, 1, 1))


def _padded(s: st.SearchStrategy[Any], pad: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(pad, s.map(str), pad).map("".join)


def _stamp(zones: list[str]) -> st.SearchStrategy[str]:
    frac = st.sampled_from(["", ".5", ".123456"])
    return st.builds(lambda d, f, z: d.strftime("%Y-%m-%dT%H:%M:%S") + f + z, STAMPS, frac, st.sampled_from(zones))


def valid(rule: Any) -> st.SearchStrategy[Any]:
    """Values a rule takes (mostly: a random date may fall out of the years, a URL be plain http)."""
    kind = rule.kind
    if kind == "gln":
        good = st.integers(0, 10**12 - 1).map(lambda n: f"{n:012d}").map(lambda p: p + gs1_check_digit(p))
        return st.one_of(good, good, good.filter(lambda g: g[0] != "0").map(int), _padded(good, BLANKS))
    if kind == "url":
        url = st.builds(lambda s, r: s + r, st.sampled_from(["https://", "http://127.0.0.1:8/", "http://localhost/"]),
                        st.text(max_size=12))
        return st.one_of(url, url, _padded(url, BLANKS))
    if kind == "text":
        base = st.from_regex(rule.pattern, fullmatch=True) if rule.pattern else st.text(max_size=rule.max_length or 20)
        digits = base.map(lambda s: int(s) if s.isdigit() and s.isascii() and s[0] != "0" else s)
        return st.one_of(base, base, base, _padded(base, BLANKS), digits)
    if kind == "date":
        good = _stamp(["Z", "+01:00", "+0100", "-05:30", ""])
        return st.one_of(good, good, _padded(good, BLANKS))
    if kind == "int":
        return st.integers(rule.ge if rule.ge is not None else -10**20, rule.le if rule.le is not None else 10**20)
    if kind == "bool":
        return st.one_of(st.booleans(), st.sampled_from(["true", "False", "1", "0", "yes", "Off", "T", 0, 1, 1.0]))
    if kind == "choice":
        return st.sampled_from(rule.values)
    if kind == "list":
        top = min(rule.max_length if rule.max_length is not None else 4, 4)
        items = st.lists(valid(rule.item), min_size=rule.min_length, max_size=max(top, rule.min_length))
        return st.one_of(items, items, valid(rule.item)) if rule.min_length <= 1 else items
    if kind == "lines":
        return request(rule.schema)
    if kind == "record":
        return request(v.Schema(rule.fields, optional=tuple(rule.fields)))
    raise AssertionError(kind)


def invalid(rule: Any) -> st.SearchStrategy[Any]:
    """Near misses of a rule (most are refused; a few pass, which is fine) and junk."""
    kind = rule.kind
    if kind == "gln":
        payload = st.integers(0, 10**12 - 1).map(lambda n: f"{n:012d}")
        near = st.one_of(payload.map(lambda p: p + str((int(gs1_check_digit(p)) + 1) % 10)), payload,
                         payload.map(lambda p: p + gs1_check_digit(p) + "0"), _padded(valid(rule), NOISE))
    elif kind == "url":
        scheme = st.sampled_from(["http://", "HTTPS://", "ftp://", "", "http://[::1]/", "https://[", "http://[zz/",
                                  "https:", "http://127.0.0.1.example/"])
        near = st.one_of(st.builds(lambda s, r: s + r, scheme, st.text(max_size=12)), _padded(valid(rule), NOISE),
                         st.integers(rule.max_length - 9, rule.max_length + 2).map(lambda n: "https://" + "a" * n))
    elif kind == "text":
        longest = rule.max_length if rule.max_length is not None else 40
        near = st.one_of(_padded(valid(rule), NOISE),
                         st.integers(max(0, longest - 1), longest + 2).map(lambda n: "7" * n),
                         st.integers(-10**30, 10**30), st.text(max_size=longest + 2), st.sampled_from(ODD))
    elif kind == "date":
        near = st.one_of(_stamp(["+25:00", "+14:00", "z", "+1", "UTC", " Z"]), _padded(valid(rule), NOISE),
                         STAMPS.map(str), STAMPS.map(lambda d: d.strftime("%Y%m%dT%H%M%SZ")))
    elif kind == "int":
        low = rule.ge if rule.ge is not None else -5
        high = rule.le if rule.le is not None else low + 10
        near = st.one_of(st.integers(low - 2, low), st.integers(high, high + 2), st.integers(low, high).map(str),
                         st.integers(low, high).map(float), st.booleans(), st.integers(2**62, 2**80))
    elif kind == "bool":
        near = st.one_of(st.integers(-3, 3), st.floats(), st.sampled_from(["tru", " true", "ÿes", "2", "", "on "]),
                         st.text(max_size=3), st.integers(2**62, 2**65), st.integers(-2**65, -2**62))
    elif kind == "choice":
        values = st.sampled_from(rule.values)
        near = st.one_of(values.map(str.lower), _padded(values, NOISE | BLANKS), st.text(max_size=3))
    elif kind == "list":
        top = rule.max_length if rule.max_length is not None else 3
        near = st.one_of(st.builds(lambda x, n: [x] * n, valid(rule.item), st.sampled_from([top, top + 1, top + 7])),
                         st.builds(lambda a, b, c: [*a, b, *c], st.lists(valid(rule.item), max_size=2),
                                   invalid(rule.item), st.lists(st.one_of(valid(rule.item), invalid(rule.item)),
                                                                max_size=2)),
                         st.just([]), invalid(rule.item))
    elif kind == "lines":
        near = st.one_of(st.lists(request(rule.schema), max_size=1), st.text(max_size=3))
    elif kind == "record":
        near = st.builds(lambda r, k, x: {**r, k: x}, valid(rule), st.sampled_from(sorted(rule.fields)),
                         st.deferred(lambda: st.one_of(JUNKS, *(invalid(f) for f in rule.fields.values()))))
    else:
        raise AssertionError(kind)
    return st.one_of(near, near, near, JUNKS)


ABSENT = object()


def request(schema: v.Schema) -> st.SearchStrategy[dict[str, Any]]:
    """A valid request of a schema (optional fields present, absent or null), then up to three fields
    made wrong (a near miss, junk, absent, null), sometimes an unknown field beside them."""
    def field(name: str, rule: Any) -> st.SearchStrategy[Any]:
        if name in schema.optional or name in schema.defaults:
            return st.one_of(valid(rule), valid(rule), st.just(ABSENT), st.none())
        return valid(rule)

    def wrong(name: str) -> st.SearchStrategy[tuple[str, Any]]:
        return st.tuples(st.just(name), st.one_of(invalid(schema.fields[name]), invalid(schema.fields[name]),
                                                  st.just(ABSENT), st.none()))

    fields = st.fixed_dictionaries({n: field(n, r) for n, r in schema.fields.items()})
    changes = st.lists(st.sampled_from(schema.names).flatmap(wrong), max_size=3)
    extra = st.dictionaries(st.sampled_from(["zzz", "glnContrator", "other"]), JUNKS, max_size=1)

    def build(d: dict[str, Any], c: list[tuple[str, Any]], e: dict[str, Any]) -> dict[str, Any]:
        out = {**e, **d, **dict(c)}
        return {k: x for k, x in out.items() if x is not ABSENT}

    return st.builds(build, fields, changes, extra)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_pnb_schema_answers_generated_requests_as_the_reference(name: str) -> None:
    schema, reference = SCHEMAS[name], REFS[name]

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(request(schema), st.booleans())
    def check(data: dict[str, Any], local: bool) -> None:
        with mock.patch.dict(os.environ, {"HUB_LOCAL": "1" if local else "0"}):
            same(schema, reference, data)

    check()
