"""`make build`: a deployable artifact without Docker.

build/layer.zip       python/ = the lending package + its requirements, installed for Lambda
                      (manylinux x86_64, CPython 3.13 wheels only, via pip's --platform options)
build/functions/*.zip one per function (its app.py)
build/template.yaml   template.yaml with CodeUri/ContentUri pointing at those zips

Then: sam deploy --template-file build/template.yaml --guided (or aws cloudformation package/deploy)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build"
LAYER = ROOT / "layers" / "common"
EXCLUDE = {"__pycache__", "local"}  # the local stack is not shipped


def _zip_dir(src: Path, dest: Path, prefix: str = "") -> None:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(src.rglob("*")):
            rel = path.relative_to(src)
            if path.is_file() and not any(part in EXCLUDE for part in rel.parts) and path.suffix != ".pyc":
                z.write(path, f"{prefix}{rel}")


def build_layer() -> Path:
    stage = OUT / "layer" / "python"
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
            "manylinux2014_x86_64",
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
        LAYER / "python" / "lending", stage / "lending", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "local")
    )
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
        _zip_dir(fn.code_uri, dest)
        rel = fn.code_uri.relative_to(ROOT).as_posix()
        text = text.replace(f"CodeUri: {rel}/\n", f"CodeUri: functions/{dest.name}\n", 1)
    text = text.replace("    Metadata:\n      BuildMethod: python3.13\n", "")
    (OUT / "template.yaml").write_text(text)
    size = sum(p.stat().st_size for p in OUT.glob("**/*.zip")) / 1e6
    print(
        f"build/template.yaml + {len(list(OUT.glob('functions/*.zip')))} function zips + layer.zip "
        f"({size:.1f} MB). Deploy: sam deploy --template-file build/template.yaml --guided"
    )


if __name__ == "__main__":
    main()
