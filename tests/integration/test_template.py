"""template.yaml is the one source of truth: it lints, every function it names exists and imports, every
route is served, each function has a sample event, and `make build` yields a deployable artifact."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from lending.local import functions, template
from tools import cext

ROOT = Path(__file__).resolve().parents[2]
TPL = template.load()
FNS = template.functions(TPL)


def test_cfn_lint_passes() -> None:
    out = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(ROOT / "template.yaml")], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_runtime_layer_and_resources() -> None:
    glob = TPL["Globals"]["Function"]
    assert glob["Runtime"] == "python3.13" and glob["Layers"] == [{"Ref": "CommonLayer"}]
    kinds = {r["Type"] for r in TPL["Resources"].values()}
    assert {
        "AWS::Serverless::HttpApi",
        "AWS::Serverless::LayerVersion",
        "AWS::DynamoDB::Table",
        "AWS::SQS::Queue",
        "AWS::S3::Bucket",
        "AWS::Serverless::Function",
    } <= kinds
    table = TPL["Resources"]["Table"]["Properties"]
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["gsi1", "gsi2", "gsi3", "gsi4"]
    # Business deadlines are never left to TTL: only sign-in counters carry its attribute.
    assert table["TimeToLiveSpecification"] == {"AttributeName": "purgeAt", "Enabled": True}
    lending = ROOT / "layers/common/python/lending"
    carriers = sorted(str(p.relative_to(lending)) for p in lending.rglob("*.py") if "purgeAt" in p.read_text())
    assert carriers == ["store/signins.py"]
    queue = TPL["Resources"]["CallbackQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["CallbackDeadLetterQueue", "Arn"]}


def test_public_doors_are_throttled_per_route_and_have_reserved_concurrency() -> None:
    api = TPL["Resources"]["HttpApi"]["Properties"]
    assert api["DefaultRouteSettings"] == {"ThrottlingRateLimit": {"Ref": "DoorRateLimit"},
                                           "ThrottlingBurstLimit": {"Ref": "DoorBurstLimit"}}
    public = [name for name, r in TPL["Resources"].items() if r["Type"] == "AWS::Serverless::Function"
              and any(e["Type"] == "HttpApi" for e in (r["Properties"].get("Events") or {}).values())]
    assert len(public) >= 20
    for name in public:
        reserved = TPL["Resources"][name]["Properties"].get("ReservedConcurrentExecutions")
        assert reserved == {"Fn::If": ["ReserveDoorConcurrency", {"Ref": "DoorConcurrency"},
                                       {"Ref": "AWS::NoValue"}]}, name
    assert 100 + len(public) * int(TPL["Parameters"]["DoorConcurrency"]["Default"]) <= 1000  # default account pool


def test_every_pnb_service_has_its_own_function_and_route() -> None:
    routes = {(r.method, r.path): r.function for f in FNS.values() for r in f.routes}
    for service in (
        "sendOrder",
        "cancelOrder",
        "checkAvailability",
        "getOffers",
        "getOffersForDistributor",
        "getOrders",
        "declareIp",
        "loanBook",
        "consultBook",
        "getLoanStatus",
        "getEndedLoans",
        "endLoan",
        "returnLoan",
        "extendLoan",
        "getUserAgent",
    ):
        assert ("POST", f"/v2/pnb-numerique/{service}") in routes
    assert len(set(routes.values())) == len({r.function for f in FNS.values() for r in f.routes})


def test_every_function_imports_and_has_a_sample_event() -> None:
    events = {p.stem for p in (ROOT / "events").glob("*.json")}
    for fn in FNS.values():
        handler = functions.handler(fn)
        assert callable(handler), fn.name
        stem = fn.code_uri.name
        assert any(e == stem or e.startswith(f"{stem}") for e in events), f"no events/{stem}*.json"
    for path in (ROOT / "events").glob("*.json"):
        json.loads(path.read_text())


def test_schedules_exist_for_expiry_and_reconcile() -> None:
    assert FNS["ExpireLoansFunction"].schedules == ["rate(1 minute)"]
    assert FNS["ReconcileFunction"].schedules


def test_build_yields_a_deployable_artifact(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "tools.build"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    built = ROOT / "build"
    lint = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(built / "template.yaml")], capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout
    with zipfile.ZipFile(built / "layer.zip") as z:
        names = set(z.namelist())
    assert "python/lending/pnb/operations.py" in names
    assert not any(n.startswith("python/lending/local/") for n in names)  # the local stack is not shipped
    assert any(n.startswith("python/lxml/") and n.endswith(".so") for n in names)  # Linux wheels
    assert not any(n.startswith("python/pydantic") for n in names)  # validation is plain Python (lending.validation)
    _the_onix_walk_is_built_for_lambda(built / "layer.zip", names, tmp_path)
    built_tpl = template.load(built / "template.yaml")
    for name, res in built_tpl["Resources"].items():
        if res["Type"] == "AWS::Serverless::Function":
            code = built / res["Properties"]["CodeUri"]
            with zipfile.ZipFile(code) as z:
                assert "app.py" in z.namelist(), name


# What the ONIX walk's extension may need from the process: CPython's C API and a few libc functions.
LIBC = {"memcpy", "memcmp", "bcmp", "memset", "strlen"}


def _the_onix_walk_is_built_for_lambda(layer: Path, names: set[str], tmp_path: Path) -> None:
    arch = str((TPL.get("Globals", {}).get("Function", {}).get("Architectures") or ["x86_64"])[0])
    name = f"python/lending/catalogue/{cext.filename(arch)}"
    assert name in names, sorted(n for n in names if "_onixwalk" in n)
    assert not any("_onixwalk" in n and n != name for n in names)  # not the host's build as well
    with zipfile.ZipFile(layer) as z:
        z.extract(name, tmp_path)
    so = tmp_path / name
    assert cext.elf_machine(so) == cext.TARGETS[arch][2]  # 183: AArch64 for arm64
    needed = cext.undefined_symbols(so)
    assert needed and all(s.startswith(("Py", "_Py")) or s in LIBC for s in needed), sorted(needed)


DOMAIN = {"DomainName": "hub.example.org", "MailDomain": "lending-hub.example",
          "CertificateArn": "arn:aws:acm:eu-west-3:123456789012:certificate/11111111-2222-3333-4444-555555555555"}


def test_cfn_lint_passes_with_the_custom_domain_set(tmp_path: Path) -> None:
    """The same template with the domain, certificate and mail domain given (as defaults, so every
    condition is true): still lint-clean. test_cfn_lint_passes covers them unset (the defaults)."""
    text = (ROOT / "template.yaml").read_text()
    for name, value in DOMAIN.items():
        old = f"  {name}:\n    Type: String\n    Default: \"\"\n"
        assert old in text, name
        text = text.replace(old, f"  {name}:\n    Type: String\n    Default: \"{value}\"\n")
    copy = tmp_path / "template.yaml"
    copy.write_text(text)
    out = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), str(copy)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_custom_domain_is_tls_1_2_and_conditional() -> None:
    res = TPL["Resources"]
    assert res["CustomDomain"]["Condition"] == res["CustomDomainMapping"]["Condition"] == "HasDomain"
    config = res["CustomDomain"]["Properties"]["DomainNameConfigurations"][0]
    assert config["SecurityPolicy"] == "TLS_1_2" and config["EndpointType"] == "REGIONAL"
    assert res["MailIdentity"]["Condition"] == "HasMailDomain"
    schedule = res["DailySummaryFunction"]["Properties"]["Events"]["Hourly"]["Properties"]["ScheduleExpression"]
    assert schedule == "cron(5 * * * ? *)"
