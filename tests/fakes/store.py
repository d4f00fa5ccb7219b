"""An in-memory store: the use cases of `lending.services` run on it in microseconds, with no emulator
and no socket.

What is faked, and why at that level:
- `table`'s key-value primitives (get, put, batch_get, batch_put, query): every read of the store modules
  (`licences.get_line`, `loans.of_line`, `loans.due`, `ips.declared`, `patrons.member_loans`...) then runs
  as it is, on the same keys and index attributes, so the key layout stays written once, in `store/`.
- `table.transact` for the plain conditional puts the store builds (an order and its lines, a patron's
  record, an email claim, a listing item): a short table of the condition expressions it understands.
- `table.update` and `table.put_new` (single conditional writes: loanBook's seat on its line, then the
  loan's detail; an end's detail, then its seat), and the transactions of `loans.renew`, by the evaluator
  below: the
  store's own expressions, with their conditions that carry the rules, run as they are.
- the conditional updates, rewritten in Python: `licences.cancel_line`, `patrons.grant_courtesy`,
  `outbox.mark_enqueued`, `deliveries.record_*`.
- the callback queue (`notify.queues.send_batch`): messages are kept in `queue`.
- the raw `Update` and `ConditionCheck` operations a store module hands to `table.transact` (the hold
  queue's writes of `store.holds`, and the `handover` items `loans.free_seat` takes): their condition
  and update expressions are read by a small evaluator of the DynamoDB grammar they use (comparisons,
  AND/OR, attribute_exists/attribute_not_exists, SET with + - and if_not_exists, REMOVE, document paths
  `a.#b` into maps).

Anything else that would reach DynamoDB or AWS (a scan, a raw client call) raises `NotFaked`: a test
never silently leaves the fake. `tests/integration/test_fake_store.py` runs one scenario on moto and on
this fake and requires the same outcomes."""

from __future__ import annotations

import copy
import inspect
import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lending import aws
from lending.domain.dates import iso
from lending.notify import queues
from lending.services import auth
from lending.store import deliveries, licences, loans, outbox, patrons, table

Item = dict[str, Any]
Key = tuple[str, str]


class NotFaked(AssertionError):
    """A use case reached a store operation (or an AWS client) the fake does not cover."""


@dataclass
class Op:
    """One operation of a fake transaction: `check` the item as it is (None: absent), then `write` it
    (returns the new item, or None to leave it absent)."""

    key: Key
    check: Callable[[Item | None], bool]
    write: Callable[[Item | None], Item | None]


def _norm(item: Mapping[str, Any]) -> Item:
    """What DynamoDB gives back of an item: absent None attributes, integers for numbers (the real store's
    codec, store/codec.py, so a float or a bad type fails here as it would there)."""
    return table.de(table.ser(item)) or {}


def _num(value: Any) -> Decimal | None:
    return Decimal(value) if isinstance(value, int | Decimal) and not isinstance(value, bool) else None


def _cmp(a: Any, op: str, b: Any) -> bool:
    """A DynamoDB comparison: false when the attribute is absent or of another type."""
    if a is None or b is None:
        return False
    na, nb = _num(a), _num(b)
    if (na is None) != (nb is None) or (na is None and type(a) is not type(b)):
        return False
    x, y = (na, nb) if na is not None else (a, b)
    return {"=": x == y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]  # type: ignore[operator]


# The conditions of the plain puts the store builds, by their expression (values deserialised).
PUT_CONDITIONS: dict[str, Callable[[Item | None, Item], bool]] = {
    "attribute_not_exists(pk)": lambda old, v: old is None,
    "version = :v": lambda old, v: old is not None and _cmp(old.get("version"), "=", v[":v"]),
    "attribute_not_exists(pk) OR memberId = :m": lambda old, v: old is None or _cmp(old.get("memberId"), "=", v[":m"]),
}


_TOKEN = re.compile(r"\s*(<=|>=|<>|[=<>(),+-]|[#:]?[A-Za-z_][A-Za-z0-9_]*(?:\.#?[A-Za-z_][A-Za-z0-9_]*)*)")


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text.rstrip()):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise NotFaked(f"expression {text!r}")
        out.append(m.group(1))
        pos = m.end()
    return out


class _Expr:
    """One operation's expressions over one item: names (#x) and values (:x) resolved as DynamoDB does."""

    def __init__(self, names: Mapping[str, str], values: Mapping[str, Any]) -> None:
        self.names, self.values = names, values

    def name(self, token: str) -> str:
        return self.names[token] if token.startswith("#") else token

    def path(self, token: str) -> list[str]:
        """A document path (`loans.#id`): each part's name."""
        return [self.name(p) for p in token.split(".")]

    def get(self, token: str, item: Item) -> Any:
        got: Any = item
        for part in self.path(token):
            got = got.get(part) if isinstance(got, dict) else None
        return got

    def put(self, token: str, item: Item, value: Any) -> None:
        *parents, last = self.path(token)
        at: Any = item
        for part in parents:
            at = at.get(part) if isinstance(at, dict) else None
            if not isinstance(at, dict):  # DynamoDB: "the document path provided is invalid"
                raise NotFaked(f"SET {token} under an absent map")
        at[last] = value

    def drop(self, token: str, item: Item) -> None:
        *parents, last = self.path(token)
        at: Any = item
        for part in parents:
            at = at.get(part) if isinstance(at, dict) else None
        if isinstance(at, dict):
            at.pop(last, None)

    def operand(self, token: str, item: Item) -> Any:
        return self.values[token] if token.startswith(":") else self.get(token, item)

    def condition(self, text: str | None, item: Item | None) -> bool:
        if not text:
            return True
        toks, got = _tokens(text), item or {}
        pos = 0

        def expr() -> bool:
            nonlocal pos
            ok = term()
            while pos < len(toks) and toks[pos] == "OR":
                pos += 1
                ok = term() or ok
            return ok

        def term() -> bool:
            nonlocal pos
            ok = factor()
            while pos < len(toks) and toks[pos] == "AND":
                pos += 1
                ok = factor() and ok
            return ok

        def factor() -> bool:
            nonlocal pos
            t = toks[pos]
            if t == "(":
                pos += 1
                ok = expr()
                pos += 1  # ")"
                return ok
            if t in ("attribute_exists", "attribute_not_exists"):
                present = self.get(toks[pos + 2], got) is not None
                pos += 4
                return present if t == "attribute_exists" else not present
            a, op, b = toks[pos:pos + 3]
            pos += 3
            if op == "<>":
                return not _cmp(self.operand(a, got), "=", self.operand(b, got))
            return _cmp(self.operand(a, got), op, self.operand(b, got))

        return expr()

    def update(self, text: str, item: Item) -> Item:
        out = copy.deepcopy(item)
        sets, _, removes = text.partition("REMOVE")
        sets = sets.strip().removeprefix("SET").strip()
        for assignment in _top_level_split(sets):
            target, _, value = assignment.partition("=")
            self.put(target.strip(), out, self._value(_tokens(value), item))
        for name in (x.strip() for x in removes.split(",") if x.strip()):
            self.drop(name, out)
        return out

    def _value(self, toks: list[str], item: Item) -> Any:
        if toks[0] == "if_not_exists":  # if_not_exists ( a , b ) ...
            got = self.get(toks[2], item)
            first, rest = (got if got is not None else self.operand(toks[4], item)), toks[6:]
        else:
            first, rest = self.operand(toks[0], item), toks[1:]
        if rest:
            second = self.operand(rest[1], item)
            if first is None or second is None:
                raise NotFaked(f"arithmetic on an absent attribute {toks}")
            return first + second if rest[0] == "+" else first - second
        return first


def _top_level_split(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return [p for p in (*parts, text[start:]) if p.strip()]


def _values(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Expression values as DynamoDB compares them: a fraction stays one (loanBook's days needed, rounded
    up at the microsecond, against maxLoanDays), where `table.de` gives the table's integers."""
    out = table.de(raw) or {}
    for k, v in raw.items():
        if "N" in v and Decimal(v["N"]) != Decimal(v["N"]).to_integral_value():
            out[k] = Decimal(v["N"])
    return out


def _raw_op(raw: Mapping[str, Any]) -> Op:
    """A store module's raw Update or ConditionCheck, judged and applied by `_Expr`."""
    (kind, body), = raw.items()
    key = table.de(body["Key"]) or {}
    used = " ".join(body.get(k, "") for k in ("UpdateExpression", "ConditionExpression"))
    unused = [k for part in ("ExpressionAttributeNames", "ExpressionAttributeValues")
              for k in body.get(part, {}) if not re.search(re.escape(k) + r"\b", used)]
    if unused:  # DynamoDB refuses them (ValidationException): so does the fake
        raise NotFaked(f"names or values unused in the expressions: {unused}")
    ex = _Expr(body.get("ExpressionAttributeNames") or {}, _values(body.get("ExpressionAttributeValues") or {}))
    cond = body.get("ConditionExpression")
    if kind == "ConditionCheck":
        return Op((key["pk"], key["sk"]), lambda old: ex.condition(cond, old), lambda old: old)
    if kind != "Update":
        raise NotFaked(f"transaction operation {kind}")

    def write(old: Item | None) -> Item:
        return ex.update(body["UpdateExpression"], old or {"pk": key["pk"], "sk": key["sk"]})

    return Op((key["pk"], key["sk"]), lambda old: ex.condition(cond, old), write)


class MemoryStore:
    """The table as a dict of items by (pk, sk), and the callback queue as a list."""

    def __init__(self) -> None:
        self.items: dict[Key, Item] = {}
        self.queue: list[dict[str, str]] = []  # {"eventId", "body"} of each message sent
        self.transactions = 0  # transactions landed
        self.writes = 0  # single conditional updates landed (loanBook's happy path is one, then its detail)
        # Writes to land just before the next transactions, one each: a race made deterministic (the
        # request under test read the store before the racer wrote, and its transaction lands after).
        self.racers: list[Callable[[], object]] = []

    # -- table primitives -------------------------------------------------------------------------

    def get(self, pk: str, sk: str, consistent: bool = True) -> Item | None:
        found = self.items.get((pk, sk))
        return copy.deepcopy(found) if found is not None else None

    def put_new(self, item: Mapping[str, Any]) -> None:
        stored = _norm(item)
        old = self.get(stored["pk"], stored["sk"])
        if old is not None:
            raise table.ConditionFailed(old)
        self.items[(stored["pk"], stored["sk"])] = stored

    def update(self, op: dict[str, Any]) -> dict[str, Any]:
        """One conditional UpdateItem (after the next racer's write, if any), as `table.update`."""
        if self.racers:
            self.racers.pop(0)()
        one = _raw_op({"Update": op})
        old = self.get(*one.key)
        if not one.check(old):
            raise table.ConditionFailed(old or {})
        new = one.write(copy.deepcopy(old))
        self.items[one.key] = _norm(new or {})
        self.writes += 1
        return copy.deepcopy(self.items[one.key]) if op.get("ReturnValues") == "ALL_NEW" else {}

    def put(self, item: Mapping[str, Any], condition: str | None = None, **kw: Any) -> None:
        stored = _norm(item)
        if condition is not None:  # one of the plain puts' conditions, failed as DynamoDB fails it
            check = PUT_CONDITIONS.get(condition)
            if check is None or set(kw) - {"ExpressionAttributeValues"}:
                raise NotFaked(f"conditional put {condition!r} {sorted(kw)}")
            if not check(self.items.get((stored["pk"], stored["sk"])), table.de(kw.get("ExpressionAttributeValues"))
                         or {}):
                raise ClientError({"Error": {"Code": "ConditionalCheckFailedException", "Message": condition}},
                                  "PutItem")
        self.items[(stored["pk"], stored["sk"])] = stored

    def batch_get(self, keys: list[tuple[str, str]], consistent: bool = True) -> list[Item]:
        return [copy.deepcopy(self.items[k]) for k in dict.fromkeys(keys) if k in self.items]

    def batch_put(self, items: list[Mapping[str, Any]]) -> None:
        for item in items:
            self.put(item)

    def query(self, index: str | None, pk_name: str, pk: str, *, sk_name: str | None = None,
              sk_between: tuple[str, str] | None = None, sk_begins: str | None = None, sk_below: str | None = None,
              forward: bool = True, limit: int | None = None, filter_expr: str | None = None,
              values: dict[str, Any] | None = None, names: dict[str, str] | None = None,
              consistent: bool = False) -> list[Item]:
        if filter_expr:
            raise NotFaked(f"query filter {filter_expr!r}")
        index_sk = f"{index}sk" if index else "sk"  # template.yaml: gsiN is keyed on gsiNpk / gsiNsk
        if sk_name is not None and sk_name != index_sk:
            raise NotFaked(f"sort key {sk_name} of index {index}")
        rows = [i for i in self.items.values() if i.get(pk_name) == pk and isinstance(i.get(index_sk), str)]
        if sk_name and sk_between:
            rows = [i for i in rows if sk_between[0] <= i[index_sk] <= sk_between[1]]
        elif sk_name and sk_begins:
            rows = [i for i in rows if i[index_sk].startswith(sk_begins)]
        elif sk_name and sk_below:
            rows = [i for i in rows if i[index_sk] < sk_below]
        # An index holds several items under one key; the base table's order among them is stable enough.
        rows.sort(key=lambda i: (i[index_sk], i["pk"], i["sk"]), reverse=not forward)
        rows = rows[:limit] if limit is not None else rows
        if index:  # read back as table.hydrate does: a line's terms with its hot item
            rows = [x for x in (table.with_companion(r, self.items.get((r["pk"], table.COMPANIONS[r["sk"]])))
                                if r["sk"] in table.COMPANIONS else r for r in rows) if x is not None]
        return copy.deepcopy(rows)

    def partition(self, pk: str, consistent: bool = False) -> list[Item]:
        return self.query(None, "pk", pk, consistent=consistent)

    def pages(self, operation: str, args: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """A query by key, as `query` reads it: `pk = :p`, with `AND sk >= :since` at most (no scan, no filter)."""
        m = re.fullmatch(r"(\w+) = :p(?: AND (\w+) >= :since)?", args.get("KeyConditionExpression", ""))
        if operation != "query" or m is None or set(args) - {"TableName", "IndexName", "KeyConditionExpression",
                                                             "ExpressionAttributeValues", "Limit"}:
            raise NotFaked(f"{operation} {args.get('KeyConditionExpression') or args.get('FilterExpression')!r}")
        values = table.de(args["ExpressionAttributeValues"]) or {}
        since = (values[":since"], "~") if m.group(2) else None
        yield from self.query(args.get("IndexName"), m.group(1), values[":p"], sk_name=m.group(2), sk_between=since)

    def transact(self, items: Sequence[Mapping[str, Any] | Op]) -> None:
        """All or nothing: every condition is judged on the items as they are, then every write lands
        (after the next racer's, if any).
        Raises the real `table.TransactionFailed` with the failed indexes and the items as they were."""
        if self.racers:
            self.racers.pop(0)()
        ops = [x if isinstance(x, Op) else self._put_op(x) for x in items]
        failed = {n: self.get(*op.key) for n, op in enumerate(ops) if not op.check(self.items.get(op.key))}
        if failed:
            raise table.TransactionFailed(failed)
        for op in ops:
            new = op.write(copy.deepcopy(self.items.get(op.key)))
            if new is None:
                self.items.pop(op.key, None)
            else:
                self.items[op.key] = _norm(new)
        self.transactions += 1

    @staticmethod
    def _put_op(raw: Mapping[str, Any]) -> Op:
        if set(raw) in ({"Update"}, {"ConditionCheck"}):
            return _raw_op(raw)
        if set(raw) != {"Put"}:
            raise NotFaked(f"transaction operation {sorted(raw)}")
        put = raw["Put"]
        item = table.de(put["Item"]) or {}
        cond = put.get("ConditionExpression")
        values = table.de(put.get("ExpressionAttributeValues")) or {}
        if cond is not None and cond not in PUT_CONDITIONS:
            raise NotFaked(f"put condition {cond!r}")
        check = PUT_CONDITIONS[cond] if cond else (lambda old, v: True)
        return Op((item["pk"], item["sk"]), lambda old: check(old, values), lambda old: item)

    # -- loans ------------------------------------------------------------------------------------

    # -- single conditional updates ----------------------------------------------------------------

    def cancel_line(self, order_line_id: str, now: str, *, require_unused: bool) -> dict[str, Any] | None:
        def may(line: Item | None) -> bool:
            if line is None:
                return False
            return not require_unused or (_cmp(line.get("nta"), "=", line.get("ntaTotal"))
                                          and "beginDate" not in line
                                          and ("held" not in line or _cmp(line.get("held"), "=", 0)))

        def cancelled(line: Item | None) -> Item:
            kept = {k: v for k, v in (line or {}).items() if k not in ("gsi2pk", "gsi2sk")}
            return {**kept, "status": "CANCELLED", "cancelledAt": now}

        try:
            self.transact([Op(licences.line_key(order_line_id), may, cancelled)])
        except table.TransactionFailed as e:
            return e.failed.get(0) or {}
        return None

    def grant_courtesy(self, gln_coll: str, member_id: str) -> int:
        key = patrons.patron_key(gln_coll, member_id)
        old = self.items.get(key) or {"pk": key[0], "sk": key[1]}
        new = {**old, "type": "patron", "glnColl": gln_coll, "memberId": member_id,
               "courtesy": old.get("courtesy", 0) + 1, "version": old.get("version", 0) + 1}
        self.items[key] = _norm(new)
        return int(new["courtesy"])

    def mark_enqueued(self, event_id: str, now: str, message_id: str, key: tuple[str, str] | None = None) -> None:
        key = key or outbox.outbox_key(event_id)
        if key in self.items:  # no such event: nothing to mark
            kept = {k: v for k, v in self.items[key].items() if k not in ("gsi2pk", "gsi2sk")}
            self.items[key] = {**kept, "enqueuedAt": now, "messageId": message_id}

    def _append(self, gln_coll: str, loan_id: str, name: str, when: datetime) -> bool:
        item = self.items.get(loans.loan_key(gln_coll, loan_id))
        if item is None or len(item.get(name) or []) >= deliveries.MAX_ENTRIES:
            return False
        item[name] = [*(item.get(name) or []), iso(when)]
        return True

    def record_download(self, gln_coll: str, loan_id: str, when: datetime) -> bool:
        return self._append(gln_coll, loan_id, "downloads", when)

    def record_shipping(self, gln_coll: str, loan_id: str, when: datetime) -> bool:
        return self._append(gln_coll, loan_id, "shippings", when)

    # -- the callback queue ------------------------------------------------------------------------

    def send_batch(self, url: str, bodies: dict[str, str], attributes: dict[str, dict[str, str]] | None = None
                   ) -> dict[str, str]:
        accepted = {}
        for event_id, body in bodies.items():
            self.queue.append({"eventId": event_id, "body": body})
            accepted[event_id] = str(uuid.uuid4())
        return accepted

    # -- what tests read -----------------------------------------------------------------------------

    def of_type(self, kind: str) -> list[Item]:
        return [copy.deepcopy(i) for i in self.items.values() if i.get("type") == kind]

    # -- the seam ------------------------------------------------------------------------------------

    def replaces(self) -> list[tuple[Any, str, Callable[..., Any]]]:
        """(module, name, fake) of every store function this fake stands in for."""
        return [(module, name, getattr(self, name)) for module, name in REPLACED]

    def install(self, mp: pytest.MonkeyPatch) -> MemoryStore:
        """Swap the fake in for the store modules the use cases import (they call `loan_store.lend`,
        `line_store.get_line`..., looked up on the module at each call), and shut every door to AWS."""
        for module, name, fake in self.replaces():
            mp.setattr(module, name, fake)
        for module, name in ((table, "client"), (aws, "client")):
            mp.setattr(module, name, _refuse(f"{module.__name__}.{name}"))
        mp.setenv("CALLBACK_QUEUE_URL", "memory://callbacks")
        mp.setenv("LINK_SIGNING_KEY", "test-signing-key")
        auth.forget()  # the account cache must not hold accounts of another store
        return self


# The store functions the fake stands in for (each by its method of the same name), and the real ones,
# taken when this module is first imported (before any test installs the fake).
REPLACED: list[tuple[Any, str]] = [
    (table, "get"), (table, "put"), (table, "batch_get"), (table, "batch_put"), (table, "query"),
    (table, "transact"), (table, "pages"), (table, "partition"), (table, "update"), (table, "put_new"),
    (licences, "cancel_line"),
    (patrons, "grant_courtesy"), (outbox, "mark_enqueued"), (deliveries, "record_download"),
    (deliveries, "record_shipping"), (queues, "send_batch"),
]
REAL: dict[tuple[str, str], Callable[..., Any]] = {(m.__name__, n): getattr(m, n) for m, n in REPLACED}


def _refuse(what: str) -> Callable[..., Any]:
    def refuse(*args: Any, **kw: Any) -> Any:
        raise NotFaked(f"{what} reached: the use case left the fake store")

    return refuse


def signature_mismatches(store: MemoryStore) -> list[str]:
    """Fakes whose parameters differ from the real function's (the interface must stay the same)."""
    out = []
    for module, name, fake in store.replaces():
        real, mine = inspect.signature(REAL[(module.__name__, name)]), inspect.signature(fake)
        if list(real.parameters) != list(mine.parameters) or [p.kind for p in real.parameters.values()] != [
                p.kind for p in mine.parameters.values()]:
            out.append(f"{module.__name__}.{name}{real} != {mine}")
    return out


@contextmanager
def memory_store() -> Iterator[MemoryStore]:
    """The fake, installed for the block (also usable inside a test that ran on moto first)."""
    with pytest.MonkeyPatch.context() as mp:
        store = MemoryStore().install(mp)
        try:
            yield store
        finally:
            auth.forget()
