"""The operator's first console account of an organisation (services.staff.invite_owner), on the store in
memory: who may get one, once, and the invitation as the console makes it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lending.domain.accounts import Account, Role
from lending.domain.refusals import Reason
from lending.domain.staff import INVITE_TTL, Staff, StaffRole, StaffState
from lending.local import demo
from lending.services import staff as auth
from lending.store import accounts
from lending.store import staff as staff_store
from tests.usecase_helpers import T0, at, refused

pytestmark = pytest.mark.usefixtures("memory")
OPERATOR = "operator:ops"


@pytest.mark.parametrize(("gln", "role"), [(demo.COLL2, Role.COLLECTIVITY), (demo.DISTRIBUTOR, Role.DISTRIBUTOR),
                                           (demo.RESELLER, Role.RESELLER)])
def test_an_organisation_gets_its_admin_invited_with_a_one_time_link(gln: str, role: Role) -> None:
    made = auth.invite_owner(at(T0), gln, " Owner@Example.ORG ", OPERATOR)
    assert (made.organisation.gln, made.organisation.role, made.again) == (gln, role, False)
    assert made.staff == staff_store.get("owner@example.org")
    assert (made.staff.gln_coll, made.staff.role, made.staff.state) == (gln, StaffRole.ADMIN, StaffState.INVITED)
    token = staff_store.get_token(auth.digest(made.token))  # the console's invitation: /console/welcome/<token>
    assert token is not None and (token["purpose"], token["email"]) == ("invite", "owner@example.org")
    assert token["expiresAt"] == (T0 + INVITE_TTL).strftime("%Y-%m-%dT%H:%M:%SZ")
    (entry,) = staff_store.audit_log(gln)  # in the organisation's own log, by the operator
    assert (entry["actor"], entry["action"], entry["target"]) == (OPERATOR, "staff.invite_owner", "owner@example.org")


def test_a_second_owner_is_refused_and_the_first_one_may_get_a_new_link_until_enrolled() -> None:
    first = auth.invite_owner(at(T0), demo.DISTRIBUTOR, "owner@example.org", OPERATOR)
    later = at(T0 + timedelta(days=4))  # the first link has lapsed (three days): a new one for the same person
    again = auth.invite_owner(later, demo.DISTRIBUTOR, "OWNER@example.org", OPERATOR)
    assert again.again and again.token != first.token and again.staff.email == "owner@example.org"
    assert [s.email for s in staff_store.of_collectivity(demo.DISTRIBUTOR)] == ["owner@example.org"]
    assert [e["action"] for e in staff_store.audit_log(demo.DISTRIBUTOR)] == [
        "staff.invite_owner.again", "staff.invite_owner"]
    other = refused(auth.invite_owner, later, demo.DISTRIBUTOR, "someone@example.org", OPERATOR)
    assert (other.reason, other.params) == (Reason.HAS_OWNER, {"gln": demo.DISTRIBUTOR, "email": "owner@example.org"})
    enrolled = staff_store.get("owner@example.org")  # once enrolled, the owner invites the others themselves
    assert enrolled is not None
    enrolled.state = StaffState.ACTIVE
    staff_store.save(enrolled)
    assert refused(auth.invite_owner, later, demo.DISTRIBUTOR, "owner@example.org", OPERATOR).reason is \
        Reason.HAS_OWNER


def test_an_organisation_whose_admin_the_demo_made_has_an_owner() -> None:
    staff_store.save(Staff("boss@example.org", demo.RESELLER, StaffRole.ADMIN, StaffState.DISABLED))
    staff_store.save(Staff("clerk@example.org", demo.COLL, StaffRole.STAFF, StaffState.ACTIVE))
    assert refused(auth.invite_owner, at(T0), demo.RESELLER, "new@example.org", OPERATOR).reason is Reason.HAS_OWNER
    # staff that are not admins are no owner: the collectivity may still get its admin
    assert auth.invite_owner(at(T0), demo.COLL, "new@example.org", OPERATOR).staff.role is StaffRole.ADMIN


@pytest.mark.parametrize("gln", ["3000000000001", demo.LIBRARY, demo.CONTRACTOR, "", "30123450000x1", "9" * 200])
def test_only_a_known_collectivity_distributor_or_reseller_gets_one(gln: str) -> None:
    r = refused(auth.invite_owner, at(T0), gln, "owner@example.org", OPERATOR)
    assert (r.reason, r.params) == (Reason.UNKNOWN_ORGANISATION, {"gln": gln})
    assert staff_store.get("owner@example.org") is None


def test_the_email_must_be_one_and_nobody_elses() -> None:
    accounts.save(Account(gln="3010999000049", role=Role.DISTRIBUTOR, name="Petit diffuseur"))
    assert refused(auth.invite_owner, at(T0), "3010999000049", "not an email", OPERATOR).reason is \
        Reason.INVALID_EMAIL
    staff_store.save(Staff("taken@example.org", demo.COLL, StaffRole.STAFF, StaffState.ACTIVE))
    assert refused(auth.invite_owner, at(T0), "3010999000049", "taken@example.org", OPERATOR).reason is \
        Reason.EMAIL_TAKEN
    assert staff_store.of_collectivity("3010999000049") == [] and staff_store.audit_log("3010999000049") == []
