"""`make build`: a deployable artifact without Docker.

build/layer.zip       python/ = the lending package + its requirements, installed for Lambda
                      (manylinux wheels of template.yaml's architecture, CPython 3.13 only, via pip's
                      --platform options), the ONIX walk's extension cross-compiled for that architecture
                      (tools/cext.py), with bytecode: /opt is read-only, so a layer without .pyc
                      compiles every module again at each cold start (0.60 s instead of 0.46 s for loanBook)
build/functions/*.zip one per function (its app.py, compiled too)
build/template.yaml   template.yaml with CodeUri/ContentUri pointing at those zips

Then: sam deploy --template-file build/template.yaml --guided (or aws cloudformation package/deploy)."""

from __future__ import annotations

import compileall
import platform
import py_compile
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tools import cext

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build"
LAYER = ROOT / "layers" / "common"
EXCLUDE = {"local"}  # the local stack is not shipped
WHEEL_PLATFORM = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
HOST_ARCH = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"


def _zip_dir(src: Path, dest: Path, prefix: str = "") -> None:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(src.rglob("*")):
            rel = path.relative_to(src)
            if path.is_file() and not any(part in EXCLUDE for part in rel.parts):
                z.write(path, f"{prefix}{rel}")


def compile_tree(root: Path) -> int:
    """Bytecode for Lambda's python3.13, checked by nothing at import (UNCHECKED_HASH): zip keeps
    2-second timestamps, and a timestamp check that failed would compile again on every cold start."""
    if sys.version_info[:2] != (3, 13):
        raise SystemExit(f"bytecode must be compiled by Python 3.13 (Lambda's runtime), not {sys.version.split()[0]}")
    ok = compileall.compile_dir(root, quiet=2, workers=0,
                                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    if not ok:
        raise SystemExit(f"compiling {root} failed")
    return len(list(root.rglob("*.pyc")))


def architecture() -> str:
    from lending.local import template

    return str((template.load().get("Globals", {}).get("Function", {}).get("Architectures") or ["x86_64"])[0])


def stage_layer(out: Path, arch: str) -> Path:
    """python/ of the layer under `out`: requirements for `arch`, the lending package, all compiled."""
    stage = out / "python"
    stage.mkdir(parents=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-compile",
            "--target",
            str(stage),
            "--platform",
            WHEEL_PLATFORM[arch],
            "--implementation",
            "cp",
            "--python-version",
            "3.13",
            "--only-binary=:all:",
            "-r",
            str(LAYER / "requirements.txt"),
        ],
        check=True,
    )
    shutil.copytree(
        LAYER / "python" / "lending",
        stage / "lending",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "local", "*.so", "*.part"),  # the host's build
    )
    # The ONIX walk in C, for `arch`, against the headers of the lxml wheel just staged (the same text as
    # the host's: one lxml version, pinned)
    cext.compile_walk(arch, stage / "lending" / "catalogue", stage / "lxml")
    compile_tree(stage)
    return stage


def stage_function(code_uri: Path, out: Path) -> Path:
    shutil.copytree(code_uri, out, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    compile_tree(out)
    return out


def build_layer() -> Path:
    stage_layer(OUT / "layer", architecture())
    dest = OUT / "layer.zip"
    _zip_dir(OUT / "layer", dest)
    return dest


def main() -> None:
    sys.path.insert(0, str(LAYER / "python"))
    from lending.local import template

    shutil.rmtree(OUT, ignore_errors=True)
    (OUT / "functions").mkdir(parents=True)
    layer = build_layer()
    text = (ROOT / "template.yaml").read_text()
    text = text.replace("ContentUri: layers/common/", f"ContentUri: {layer.name}")
    for name, fn in template.functions(template.load()).items():
        dest = OUT / "functions" / f"{name}.zip"
        _zip_dir(stage_function(fn.code_uri, OUT / "stage" / name), dest)
        rel = fn.code_uri.relative_to(ROOT).as_posix()
        text = text.replace(f"CodeUri: {rel}/\n", f"CodeUri: functions/{dest.name}\n", 1)
    text = text.replace("    Metadata:\n      BuildMethod: python3.13\n", "")
    (OUT / "template.yaml").write_text(text)
    shutil.rmtree(OUT / "stage")
    size = sum(p.stat().st_size for p in OUT.glob("**/*.zip")) / 1e6
    print(
        f"build/template.yaml + {len(list(OUT.glob('functions/*.zip')))} function zips + layer.zip "
        f"({size:.1f} MB). Deploy: sam deploy --template-file build/template.yaml --guided"
    )


if __name__ == "__main__":
    main()
