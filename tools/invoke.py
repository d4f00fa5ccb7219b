"""`make invoke FN=<FunctionName> EVENT=events/<file>.json`: one function with a sample event, as
`sam local invoke -e` would. With ENDPOINT=http://127.0.0.1:3001 it runs against the emulator of a
running `make run`; otherwise on a fresh emulator of its own with the demo data."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "common" / "python"))


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: python -m tools.invoke <FunctionName> <event.json>")
    name, event_file = sys.argv[1], Path(sys.argv[2])
    from lending.local import demo, functions, resources, template
    from lending.local.emulator import Emulator

    tpl = template.load()
    fns = template.functions(tpl)
    if name not in fns:
        sys.exit(f"unknown function {name}; one of: {', '.join(sorted(fns))}")
    from lending.local.emulator import LOCAL_ENV
    from lending.store import table

    endpoint = os.environ.get("ENDPOINT")
    emulator = None
    if endpoint:
        os.environ.update(LOCAL_ENV)
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        table.reset_client()
    else:
        emulator = Emulator().start()
        emulator.use()
    refs = resources.create_all(tpl)
    os.environ.update(
        resources.environment(
            tpl,
            refs,
            {
                "PUBLIC_BASE_URL": "http://127.0.0.1:3000",
                "LINK_SIGNING_KEY": "local-invoke-signing-key",
                "HUB_LOCAL": "1",
            },
        )
    )
    if emulator:
        demo.load()
    result = functions.invoke(fns[name], json.loads(event_file.read_text()))
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if emulator:
        emulator.stop()


if __name__ == "__main__":
    main()
