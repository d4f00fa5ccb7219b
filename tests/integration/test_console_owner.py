"""`python -m tools.console_owner`: the operator's command that invites an organisation's first console
account, on emulated AWS: the link it prints enrols the admin into their organisation's console, the email
is the console's invitation, refusals are said plainly, and the table and address are found as documented."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime

import pyotp
import pytest

from lending.domain.accounts import Account, Role
from lending.local import demo
from lending.local.mail import sent
from lending.services import staff as auth
from lending.services.context import Ctx
from lending.services.distributor import organisation_role
from lending.store import accounts
from lending.store import staff as staff_store
from tools import console_owner

pytestmark = pytest.mark.usefixtures("aws")
NEW_DISTRIBUTOR = "3010999000049"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = console_owner.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_the_printed_link_enrols_the_organisations_admin(capsys: pytest.CaptureFixture[str]) -> None:
    accounts.save(Account(gln=NEW_DISTRIBUTOR, role=Role.DISTRIBUTOR, name="Petit diffuseur"))
    status, out, err = run(capsys, NEW_DISTRIBUTOR, "Owner@Petit.example", "--base-url", "https://hub.example/",
                           "--mail")
    assert (status, err) == (0, "")
    found = re.search(r"invitation link \(one use, until (\S+)\): (https://hub\.example/console/welcome/(\S+))", out)
    assert found, out
    until, link, token = found.groups()
    assert f"invited owner@petit.example: administrator of Petit diffuseur (distributor {NEW_DISTRIBUTOR})" in out
    (mail,) = [m for m in sent() if m.to == ["owner@petit.example"]]  # the console's invitation email
    assert mail.subject == "Your console account / Votre accès à la console"
    assert "the distributor console of Petit diffuseur" in mail.body and link in mail.body
    # The admin opens the link as an invited staff member does: password, authenticator, recovery codes.
    now = datetime.now(UTC)
    ctx = Ctx(now=now, base_url="https://hub.example")
    assert until > now.strftime("%Y-%m-%dT%H:%M:%SZ")
    email, secret = auth.enrolment(ctx, token)
    codes, _, session = auth.accept_invite(ctx, token, "a long enough password", pyotp.TOTP(secret).at(now))
    staff = staff_store.get(email)
    assert staff is not None and session.mfa and len(codes) == 10
    assert (staff.gln_coll, staff.admin, organisation_role(staff)) == (NEW_DISTRIBUTOR, True, "distributor")
    (entry,) = staff_store.audit_log(NEW_DISTRIBUTOR)
    assert entry["action"] == "staff.invite_owner" and entry["actor"].startswith("operator:")
    # Once there is an owner, the command refuses, saying who it is; an unknown organisation too.
    status, out, err = run(capsys, NEW_DISTRIBUTOR, "second@petit.example", "--base-url", "https://hub.example")
    assert (status, out) == (1, "")
    assert err == (f"refused: {NEW_DISTRIBUTOR} has its console administrator already (owner@petit.example): "
                   "they invite the others.\n")
    for gln in ("3000000000001", demo.LIBRARY):
        status, _, err = run(capsys, gln, "x@y.example", "--base-url", "https://hub.example")
        assert (status, err) == (1, f"refused: No collectivity, distributor or reseller has the GLN {gln}.\n")


def test_a_lost_invitation_gets_a_new_link_and_the_old_one_still_works(capsys: pytest.CaptureFixture[str]) -> None:
    first = run(capsys, demo.RESELLER2, "owner@reseller.example", "--base-url", "http://h")[1]
    second = run(capsys, demo.RESELLER2, "owner@reseller.example", "--base-url", "http://h")[1]
    assert second.startswith("new link for owner@reseller.example: administrator of")
    links = [re.search(r"(http://h/console/welcome/\S+)", text) for text in (first, second)]
    assert links[0] and links[1] and links[0].group(1) != links[1].group(1)


def test_the_table_and_address_are_found_locally_and_from_the_deployed_stack(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from lending import aws
    from lending.local.resources import physical_name

    table = os.environ["TABLE_NAME"]
    # Under `make run`: AWS_ENDPOINT_URL names the emulator, the local stack's table and hub.
    monkeypatch.delenv("TABLE_NAME")
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:3001")
    monkeypatch.setenv("PORT", "8080")
    assert console_owner.resolve("lending-hub", None) == "http://127.0.0.1:8080"
    assert os.environ["TABLE_NAME"] == physical_name("Table")
    # Deployed: the stack's table, and its public address (custom domain, PublicBaseUrl, else the API's URL).
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.delenv("TABLE_NAME")
    body = {"Parameters": {"PublicBaseUrl": {"Type": "String", "Default": ""},
                           "DomainName": {"Type": "String", "Default": ""}},
            "Resources": {"Q": {"Type": "AWS::SQS::Queue"}},
            "Outputs": {"TableName": {"Value": table}, "ApiUrl": {"Value": "https://abc.execute-api.example"}}}
    cfn = aws.client("cloudformation")
    cfn.create_stack(StackName="hub-a", TemplateBody=json.dumps(body))
    assert console_owner.resolve("hub-a", None) == "https://abc.execute-api.example"
    assert os.environ["TABLE_NAME"] == table
    monkeypatch.delenv("TABLE_NAME")
    cfn.create_stack(StackName="hub-b", TemplateBody=json.dumps(body), Parameters=[
        {"ParameterKey": "DomainName", "ParameterValue": "books.example.org"}])
    assert console_owner.resolve("hub-b", None) == "https://books.example.org"
    # TABLE_NAME and an address given: no stack is read at all.
    assert console_owner.resolve("no-such-stack", "https://given.example") == "https://given.example"
