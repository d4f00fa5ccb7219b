"""Every refusal reason of the core through every door's one table: none is missing, none falls
through to a default, every wording has the parameters it needs."""

from __future__ import annotations

import pytest

from lending.console import app as console
from lending.console.i18n import LANGS, translator
from lending.domain.codes import Status
from lending.domain.licences import Pool
from lending.domain.refusals import PARAMS, Reason, Refused
from lending.lsd import errors as lsd
from lending.pnb import refusals as pnb
from lending.v1 import errors as v1
from lending.warehouse import errors as warehouse


def sample(reason: Reason, pool: Pool = Pool.DOWNLOAD) -> Refused:
    return Refused(reason, **{p: (pool if p == "pool" else f"<{p}>") for p in PARAMS.get(reason, ())})


@pytest.mark.parametrize("reason", list(Reason))
def test_every_reason_has_one_answer_in_every_door(reason: Reason) -> None:
    for pool in Pool:
        refusal = sample(reason, pool)
        status, message = pnb.answer(refusal)
        assert status in Status and status is not Status.OK and message and "{" not in message
        for name in PARAMS.get(reason, ()):  # the facts it carries are said (the pool through its words)
            assert name == "pool" or f"<{name}>" in message
        error = v1.of_refusal(refusal)
        assert error.codes[0] in v1.CODES and error.status >= 400
        assert warehouse.for_refusal(refusal) in warehouse.ALL
        for lang in LANGS:  # the console's words, in every language, with their facts filled in
            said = console.words(translator(lang), refusal)
            assert said and "{" not in said
        assert 400 <= console.STATUS.get(reason, 400) < 500
        for interaction in lsd.KIND:  # a Problem Details answer with one of the LSD spec's error types
            code, body = lsd.problem(refusal, interaction)
            assert code >= 400 and body["status"] == code and "{" not in body["title"]
            assert body["type"].removeprefix(lsd.LSD_ERRORS) in set(lsd.KIND.values())
    assert set(pnb.TABLE) == set(v1.TABLE) == set(warehouse.TABLE) == set(lsd.TABLE) == set(Reason)


def test_the_lsd_door_words_the_renewal_reasons_as_renew_errors() -> None:
    for reason in (Reason.CANNOT_BE_LOANED, Reason.END_NOT_LATER, Reason.RENEWAL_TOO_LONG,
                   Reason.LICENCE_ENDS_FIRST, Reason.ALREADY_ENDED):
        code, body = lsd.problem(sample(reason), "renew")
        assert code in (400, 403) and body["type"] == lsd.LSD_ERRORS + "renew"
        if reason is not Reason.ALREADY_ENDED:  # the reading app knows its loan: the facts of the rule are said
            assert all(f"<{name}>" in body["title"] for name in PARAMS.get(reason, ()))
    assert lsd.problem(sample(Reason.ALREADY_ENDED), "register")[1]["type"] == lsd.LSD_ERRORS + "registration"
    assert lsd.problem(sample(Reason.LICENCE_NOT_FOUND), "renew")[0] == 404


def test_a_refusal_takes_exactly_its_parameters() -> None:
    with pytest.raises(TypeError):
        Refused(Reason.UNKNOWN_LINE)
    with pytest.raises(TypeError):
        Refused(Reason.NTA_EXHAUSTED, order_line_id="1")
    assert Refused(Reason.UNKNOWN_LINE, order_line_id="9").params == {"order_line_id": "9"}


def test_the_pool_words_its_own_refusal() -> None:
    assert pnb.answer(sample(Reason.POOL_FULL, Pool.ONSITE)) == (
        Status.MAX_SIMULTANEOUS_LOAN_REACHED, "The maximum number of on-site consultation is reached.")
    assert warehouse.for_refusal(sample(Reason.POOL_FULL, Pool.OFFSITE)) == warehouse.MAX_OFFSITE
    assert v1.of_refusal(sample(Reason.POOL_FULL)).codes == ["all_copies_on_loan"]


def test_no_door_compares_a_bare_reason_string() -> None:
    """A reason is compared as Reason.X, never as a literal that a typo would silently turn into a
    default answer."""
    import pathlib
    import re

    import lending

    root = pathlib.Path(lending.__file__).parent
    values = "|".join(re.escape(r.value) for r in Reason)
    pattern = re.compile(rf"""reason\s*(==|!=|is|in)\s*["']({values})["']""")
    found = [f"{p.relative_to(root)}:{n}" for p in root.rglob("*.py") if "local" not in p.parts
             for n, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert found == []
