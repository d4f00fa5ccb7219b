"""The platform's register of lending systems, the identifiers `bill_drm_to` may name:

    make lending-system ID=SIGB42 NAME="SIGB Example"     register (or rename) one
    make lending-system                                     list them

against the deployed stack (STACK=lending-hub by default), or the local one with
AWS_ENDPOINT_URL=http://127.0.0.1:3001."""

from __future__ import annotations

import sys

from .. import clock
from ..domain.identifiers import is_lending_system_id
from ..services import lending_systems
from .billing import resolve_names


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    system_id, name, stack = [*args, "", "", ""][:3]
    if system_id and not is_lending_system_id(system_id):
        print(f"not a lending system identifier: {system_id!r} (letters, digits, '._-', at most 64)",
              file=sys.stderr)
        return 2
    resolve_names(stack or "lending-hub")
    if system_id:
        lending_systems.register(system_id, name or system_id, clock.now())
    for s in lending_systems.listed():
        print(f"{s.system_id}\t{s.name}\t{s.registered_at}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
