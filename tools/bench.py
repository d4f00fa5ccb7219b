"""`make bench`: speed and cost figures, printed as they come, then one JSON object as the last line.

Each module of tools/benches/ exposes `run(report)`; `report(key, value, note)` prints a figure and
keeps it for the final JSON (flat keys named after the figure, so runs can be compared)."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import sys
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "common" / "python"))

figures: dict[str, Any] = {}


def report(key: str, value: Any, note: str = "") -> None:
    figures[key] = round(value, 4) if isinstance(value, float) else value
    print(f"  {key:48} {figures[key]!s:>12}  {note}", flush=True)


def main() -> None:
    from tools import benches
    from tools.benches._shared import shutdown

    only = set(sys.argv[1:])
    for mod in sorted(m.name for m in pkgutil.iter_modules(benches.__path__) if not m.name.startswith("_")):
        if only and mod not in only:
            continue
        print(f"== {mod}", flush=True)
        try:
            importlib.import_module(f"tools.benches.{mod}").run(report)
        except Exception:
            traceback.print_exc()
            figures[f"{mod}_failed"] = True
        finally:
            shutdown()
    os.environ.pop("AWS_ENDPOINT_URL", None)
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
