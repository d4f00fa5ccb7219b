"""No function imports boto3 (nor s3transfer) at init or in its first requests: the hub's clients come
from a botocore session (lending/aws.py), its items go through its own codec (store/codec.py), and
`import boto3` would cost every cold start about 17 ms (docs/cold-start.md). Only S3's managed uploads
(the catalogue sync's and the FTP files job's `upload_fileobj`) import boto3's transfer code, at their
first call.

moto imports boto3 itself, so the emulator runs in a process of its own (the demo data loaded), and a
second process, which never imports moto, loads every function of template.yaml and serves it its
sample event (events/*.json, `make invoke`'s), saying after each whether boto3 has been imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYER = str(ROOT / "layers/common/python")

EMULATOR = """
import json, os, sys
from lending.local import demo, resources, template
from lending.local.emulator import Emulator
before = dict(os.environ)
emulator = Emulator().start()
emulator.use()
tpl = template.load()
os.environ.update(resources.environment(tpl, resources.create_all(tpl), {
    "PUBLIC_BASE_URL": "http://127.0.0.1:9", "LINK_SIGNING_KEY": "cold-requests-key", "HUB_LOCAL": "1"}))
demo.load()
print(json.dumps({k: v for k, v in os.environ.items() if before.get(k) != v}), flush=True)
sys.stdin.read()  # until the test closes it
emulator.stop()
"""

FUNCTIONS = """
import json, sys
from pathlib import Path
from lending.local import functions, template
fns = {f.code_uri.name: f for f in template.functions(template.load()).values()}
out = {"init": {}, "requests": []}
for folder, fn in sorted(fns.items()):  # every function's init first, as Lambda's containers do
    functions.handler(fn)
    out["init"][folder] = sorted(m for m in ("boto3", "s3transfer") if m in sys.modules)
uploads = set(sys.argv[2:])  # served last: they import boto3's transfer code
for event in sorted(Path(sys.argv[1]).glob("*.json"), key=lambda e: (e.stem in uploads, e.stem)):
    folder = max((f for f in fns if event.stem.startswith(f)), key=len)
    try:
        status = functions.invoke(fns[folder], json.loads(event.read_text()))
        status = status.get("statusCode") if isinstance(status, dict) else "done"
    except Exception as e:
        status = f"raised {type(e).__name__}: {e}"
    out["requests"].append([event.stem, status, sorted(m for m in ("boto3", "s3transfer") if m in sys.modules)])
print(json.dumps(out))
"""

# The jobs whose sample event uploads a file through S3's managed transfer (boto3's upload_fileobj).
MANAGED_UPLOADS = {"catalogue_sync", "ftp_files"}


def test_no_function_imports_boto3_at_init_nor_in_its_first_requests() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"PYTHONPATH": LAYER, "POWERTOOLS_TRACE_DISABLED": "1", "POWERTOOLS_LOG_LEVEL": "ERROR"})
    emulator = subprocess.Popen([sys.executable, "-c", EMULATOR], env=env, cwd=ROOT, text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert emulator.stdout is not None
        line = emulator.stdout.readline()
        assert line, "the emulator did not start"
        served = subprocess.run([sys.executable, "-c", FUNCTIONS, str(ROOT / "events"), *MANAGED_UPLOADS],
                                env={**env, **json.loads(line)}, cwd=ROOT, capture_output=True, text=True,
                                timeout=300, check=True)
    finally:
        try:
            emulator.communicate("", timeout=30)
        except subprocess.TimeoutExpired:  # never leave the emulator behind the test
            emulator.kill()
            emulator.communicate()
    found = json.loads(served.stdout.strip().splitlines()[-1])
    assert len(found["init"]) == len(list((ROOT / "functions").glob("*/app.py")))
    assert {f: m for f, m in found["init"].items() if m} == {}
    requests = found["requests"]
    others = [(name, m) for name, _, m in requests if name not in MANAGED_UPLOADS]
    assert len(others) == len(list((ROOT / "events").glob("*.json"))) - len(MANAGED_UPLOADS)
    assert [(name, m) for name, m in others if m] == []
    # The probe sees an import when there is one: the FTP files job's upload (served last) loads boto3's.
    assert requests[-1][0] == "ftp_files" and requests[-1][2] == ["boto3", "s3transfer"]
    # The sample requests ran to an answer (many are refusals of the demo data: the path up to them).
    assert [(name, status) for name, status, _ in requests if str(status).startswith("raised")] == []
