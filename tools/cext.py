"""The ONIX reader's walk in C (layers/common/src/onixwalk.c -> lending.catalogue._onixwalk).

Compiled with ziglang's C compiler (pinned in requirements-dev.txt: no system compiler needed), which
cross-compiles: `arm64` (what Lambda runs) and `x86_64`, against glibc 2.17 (manylinux2014, as the layer's
wheels). Headers: CPython's of the running 3.13 (the public C API is the same text on both machines; its
pyconfig.h is the host's, whose only architecture-specific macros serve CPython's internal headers, which
the walk does not include) and lxml's (lxml.etree.h for the element struct, libxml2's tree.h), from the
lxml package given (the layer's own wheel when cross-building: tools/build.py). No libxml2 or lxml symbol
is linked: the walk reads libxml2's node structs only.

`python -m tools.cext` builds the host's extension into the layer's package dir (git-ignored), only when
the source or this file is newer than it: a step of `make test`, `make run` and `make bench`.
"""

from __future__ import annotations

import os
import platform
import struct
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "layers" / "common" / "src" / "onixwalk.c"
PACKAGE = ROOT / "layers" / "common" / "python" / "lending" / "catalogue"
NAME = "_onixwalk"
# Lambda's architecture names -> (zig target, CPython's multiarch name in the extension suffix, ELF e_machine)
TARGETS = {"arm64": ("aarch64-linux-gnu.2.17", "aarch64-linux-gnu", 183),
           "x86_64": ("x86_64-linux-gnu.2.17", "x86_64-linux-gnu", 62)}
HOST_ARCH = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
FLAGS = ["-shared", "-fPIC", "-O2", "-fno-strict-aliasing", "-Wall", "-Wextra", "-Wno-unused-parameter",
         "-Werror", "-s"]


def filename(arch: str) -> str:
    """As CPython 3.13 looks for it on that architecture (the full API, not abi3: the walk reads str
    and tuple internals through macros)."""
    return f"{NAME}.cpython-313-{TARGETS[arch][1]}.so"


def python_include() -> Path:
    include = Path(sysconfig.get_paths()["include"])
    if sys.version_info[:2] != (3, 13) or not (include / "Python.h").exists():
        raise SystemExit(f"building {NAME} needs CPython 3.13's headers (Python.h), not found in {include}: "
                         "install the python3.13 development files (or a pyenv 3.13)")
    return include


def host_lxml() -> Path:
    import lxml

    return Path(lxml.__file__).parent


def compile_walk(arch: str, dest: Path, lxml_dir: Path) -> Path:
    """Compile the extension for `arch` into the directory `dest`; returns its path."""
    target = TARGETS[arch][0]
    out = dest / filename(arch)
    headers = [f"-I{python_include()}", f"-I{lxml_dir}", f"-I{lxml_dir / 'includes'}"]
    # written aside, then renamed: a process that has the old one loaded keeps its mapping intact
    part = out.with_name(f"{out.name}.{os.getpid()}.part")
    cmd = [sys.executable, "-m", "ziglang", "cc", "-target", target, *FLAGS, *headers, str(SOURCE), "-o", str(part)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        part.unlink(missing_ok=True)
        raise SystemExit(f"compiling {SOURCE.name} for {arch} failed:\n{done.stderr[-4000:]}")
    part.replace(out)
    return out


def build_host(force: bool = False) -> Path:
    """The host's extension in the layer's package dir, compiled only when out of date."""
    out = PACKAGE / filename(HOST_ARCH)
    # the struct it reads is lxml's: a reinstalled lxml (new headers) means compiling again
    newest = max(SOURCE.stat().st_mtime, Path(__file__).stat().st_mtime,
                 (host_lxml() / "lxml.etree.h").stat().st_mtime)
    if force or not out.exists() or out.stat().st_mtime < newest:
        compile_walk(HOST_ARCH, PACKAGE, host_lxml())
        print(f"compiled {out.relative_to(ROOT)}")
    return out


# --- what a built extension is: read from its ELF header and dynamic symbol table ----------------------

def elf_machine(path: Path) -> int:
    data = path.read_bytes()[:20]
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError(f"{path.name} is not a 64-bit little-endian ELF file")
    return int(struct.unpack_from("<H", data, 18)[0])


def undefined_symbols(path: Path) -> set[str]:
    """The names the shared object needs from elsewhere (undefined entries of .dynsym)."""
    data = path.read_bytes()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names: set[str] = set()
    for _, kind, _, _, offset, size, link, _, _, entsize in sections:
        if kind != 11:  # SHT_DYNSYM
            continue
        strtab_offset = sections[link][4]
        for at in range(offset + entsize, offset + size, entsize):  # entry 0 is the null symbol
            name, _, _, shndx, _, _ = struct.unpack_from("<IBBHQQ", data, at)
            if shndx == 0:  # SHN_UNDEF
                end = data.index(b"\0", strtab_offset + name)
                names.add(data[strtab_offset + name:end].decode())
    return names


if __name__ == "__main__":
    build_host(force="--force" in sys.argv)
