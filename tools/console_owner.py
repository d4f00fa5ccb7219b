"""An organisation's first console account: its administrator, invited as the console invites staff.

    python -m tools.console_owner <GLN> <email> [--mail] [--base-url URL] [--stack NAME]
    make console-owner GLN=<GLN> EMAIL=<email> [ARGS="--mail"]

The organisation (a collectivity, a distributor or a reseller) must exist in the table and have no
administrator yet. The command prints the one-time invitation link (three days); the administrator opens
it, sets a password and an authenticator, keeps the recovery codes, and invites the others from the
console. `--mail` also sends the link by email, the invitation email the console sends (SES; locally the
emulator's, shown by `make run`). Run again for the same email while the administrator has not enrolled,
it makes a new link (a lost email).

Which table:
- TABLE_NAME set: that table (credentials and region from the usual AWS settings: AWS_PROFILE, ...);
- AWS_ENDPOINT_URL set (e.g. http://127.0.0.1:3001 under `make run`): the local stack's table;
- otherwise the deployed stack's (CloudFormation, `--stack`, lending-hub by default).

The link's address: `--base-url`, else PUBLIC_BASE_URL, else the local hub (http://127.0.0.1:$PORT, 3000)
under the emulator, else the stack's custom domain or API URL. Exit status: 0 invited, 1 refused, 2 usage."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "common" / "python"))


def _stack(name: str) -> dict[str, Any]:
    from lending import aws

    return dict(aws.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0])


def resolve(stack: str, base_url: str | None) -> str:
    """Set TABLE_NAME (when not given) and return the hub's public address for the link."""
    if not os.environ.get("TABLE_NAME") and os.environ.get("AWS_ENDPOINT_URL"):
        from lending.local.emulator import LOCAL_ENV
        from lending.local.resources import physical_name

        for k, v in LOCAL_ENV.items():
            os.environ.setdefault(k, v)
        os.environ["TABLE_NAME"] = physical_name("Table")
        return base_url or os.environ.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{os.environ.get('PORT', '3000')}"
    base = base_url or os.environ.get("PUBLIC_BASE_URL")
    if os.environ.get("TABLE_NAME") and base:
        return base
    found = _stack(stack)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}
    params = {p["ParameterKey"]: p.get("ParameterValue", "") for p in found.get("Parameters", [])}
    os.environ.setdefault("TABLE_NAME", outputs["TableName"])
    if params.get("DomainName"):
        return base or f"https://{params['DomainName']}"
    return base or params.get("PublicBaseUrl") or outputs["ApiUrl"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.console_owner",
                                     description="Invite an organisation's first console account (its admin).")
    parser.add_argument("gln", help="the organisation's GLN: a collectivity, a distributor or a reseller")
    parser.add_argument("email", help="the administrator's email (their sign-in name)")
    parser.add_argument("--mail", action="store_true", help="also send the invitation email")
    parser.add_argument("--base-url", help="the hub's public address (for the link)")
    parser.add_argument("--stack", default="lending-hub", help="the deployed stack (when TABLE_NAME is not set)")
    args = parser.parse_args(argv)

    base = resolve(args.stack, args.base_url).rstrip("/")
    from lending import clock
    from lending.console.app import invitation_email, words
    from lending.console.http import url
    from lending.console.i18n import translator
    from lending.domain.refusals import Refused
    from lending.services import mailer
    from lending.services import staff as staff_uses
    from lending.services.context import Ctx

    ctx = Ctx(now=clock.now(), base_url=base)
    try:
        made = staff_uses.invite_owner(ctx, args.gln.strip(), args.email, f"operator:{getpass.getuser()}")
    except Refused as r:
        print(f"refused: {words(translator('en'), r)}", file=sys.stderr)
        return 1
    org = made.organisation
    link = base + url("welcome", made.token)
    expires = (ctx.now + staff_uses.INVITE_TTL).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(f"{'new link for' if made.again else 'invited'} {made.staff.email}: administrator of {org.name or org.gln} "
          f"({org.role.value} {org.gln}), table {os.environ['TABLE_NAME']}")
    print(f"invitation link (one use, until {expires}): {link}")
    if args.mail:
        kind = org.role.value if org.role.value in ("distributor", "reseller") else "library"
        mailer.send(made.staff.email, *invitation_email(org.name or org.gln, kind, link))
        print(f"emailed to {made.staff.email} from {mailer.sender()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
