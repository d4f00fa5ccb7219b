"""`make run`'s FTP server: the files of the emulated bucket, as AWS Transfer Family serves them deployed.

pyftpdlib, read-only. A login is the hub's own account and password (files.ftp.login: the
same check the deployed identity provider makes); the account then sees only its tree (files/layout.py):
/HUB/O/ (its own files) and /HUB/ONIX/<glnDistributor>/ (the catalogues it may order from), each
directory a prefix of the bucket. Passive mode (what PMB uses) on ephemeral ports of 127.0.0.1.

NLST takes a pattern in its last component (`NLST full_pnb*`, as PMB's ftp_nlist sends it), matched
like a shell glob against that directory's names, as common FTP servers do.
"""

from __future__ import annotations

import fnmatch
import glob
import logging
import os
import posixpath
import stat
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any

import boto3
from pyftpdlib.authorizers import AuthenticationFailed
from pyftpdlib.filesystems import AbstractedFS, FilesystemError
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

from ..files.access import Access, login

DEFAULT_PORT = 2121
SPOOL_BYTES = 8 * 1024 * 1024
LISTING_TTL_S = 2.0
_DIR_MODE = stat.S_IFDIR | 0o555
_FILE_MODE = stat.S_IFREG | 0o444


@dataclass(frozen=True)
class _Entry:
    is_dir: bool
    size: int = 0
    mtime: float = 0.0


class Authorizer:
    """pyftpdlib's authorizer interface over the hub's accounts; every account is read-only."""

    PERMS = "elr"  # change directory, list, retrieve

    def validate_authentication(self, username: str, password: str, handler: Any) -> None:
        access = login(username, password)
        if access is None:
            raise AuthenticationFailed("Authentication failed.")
        handler.access = access

    def get_home_dir(self, username: str) -> str:
        return "/"

    def has_user(self, username: str) -> bool:
        return True

    def get_perms(self, username: str) -> str:
        return self.PERMS

    def has_perm(self, username: str, perm: str, path: str | None = None) -> bool:
        return perm in self.PERMS

    def get_msg_login(self, username: str) -> str:
        return f"Welcome {username}: your files are in /HUB/O/."

    def get_msg_quit(self, username: str) -> str:
        return "Goodbye."

    def impersonate_user(self, username: str, password: str) -> None:
        pass

    def terminate_impersonation(self, username: str) -> None:
        pass


class _Retrieved:
    """A downloaded object as pyftpdlib reads a file: read, seek, close, name."""

    def __init__(self, name: str, body: Any) -> None:
        self.name = name
        self._file = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (closed by close())
        for chunk in body.iter_chunks(1024 * 1024):
            self._file.write(chunk)
        self._file.seek(0)

    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def close(self) -> None:
        self._file.close()

    @property
    def closed(self) -> bool:
        return bool(self._file.closed)


class BucketFS(AbstractedFS):
    """The account's tree over the bucket. Paths are the virtual ones (root "/"); nothing outside the
    account's mappings resolves, so nothing else can be listed, read or guessed."""

    def __init__(self, root: str, cmd_channel: Any) -> None:
        super().__init__("/", cmd_channel)
        self.access: Access = cmd_channel.access
        self.s3 = cmd_channel.s3
        self.bucket = cmd_channel.bucket
        self._listings: dict[str, tuple[float, dict[str, _Entry]]] = {}
        self._since = time.time()  # the directories' own date (S3 has none)

    # --- paths -------------------------------------------------------------------------------------
    def ftp2fs(self, ftppath: str) -> str:
        return self.ftpnorm(ftppath)

    def fs2ftp(self, fspath: str) -> str:
        return posixpath.normpath(fspath) if fspath.startswith("/") else self.ftpnorm(fspath)

    def validpath(self, path: str) -> bool:
        return True  # a normalised virtual path cannot leave "/"; what it names is checked on use

    def realpath(self, path: str) -> str:
        return path

    def _mapped(self, path: str) -> tuple[str, str] | None:
        """(bucket prefix, path below it) when `path` lies in one of the account's mapped directories."""
        for entry, target in self.access.tree:
            if path == entry or path.startswith(entry + "/"):
                return target, path[len(entry):].strip("/")
        return None

    def _virtual_children(self, path: str) -> dict[str, _Entry] | None:
        """The directories above the mappings ("/", "/HUB", "/HUB/ONIX"): their children, or None."""
        base = path.rstrip("/") + "/"
        names = {entry[len(base):].split("/")[0] for entry, _ in self.access.tree if entry.startswith(base)}
        if not names:
            return None
        return {n: _Entry(True, mtime=self._since) for n in names}

    def _listing(self, path: str) -> dict[str, _Entry] | None:
        hit = self._listings.get(path)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        mapped = self._mapped(path)
        if mapped is None:
            return self._virtual_children(path)
        target, below = mapped
        prefix = f"{target}/{below}/" if below else f"{target}/"
        found: dict[str, _Entry] = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix,
                                                                        Delimiter="/"):
            for sub in page.get("CommonPrefixes", []):
                found[sub["Prefix"][len(prefix):].rstrip("/")] = _Entry(True, mtime=self._since)
            for obj in page.get("Contents", []):
                name = obj["Key"][len(prefix):]
                if name:
                    found[name] = _Entry(False, int(obj["Size"]), obj["LastModified"].timestamp())
        if not found and below:
            return None  # a "directory" below a mapping exists only while it holds objects
        self._listings[path] = (time.monotonic() + LISTING_TTL_S, found)
        return found

    def _entry(self, path: str) -> _Entry | None:
        path = posixpath.normpath(path)
        if path == "/" or self._virtual_children(path) is not None:
            return _Entry(True, mtime=self._since)
        mapped = self._mapped(path)
        if mapped is not None and not mapped[1]:
            return _Entry(True, mtime=self._since)
        parent, name = posixpath.split(path)
        listing = self._listing(parent)
        return None if listing is None else listing.get(name)

    @staticmethod
    def _missing(path: str) -> OSError:
        return FileNotFoundError(2, "No such file or directory", path)

    # --- what pyftpdlib asks -----------------------------------------------------------------------
    def chdir(self, path: str) -> None:
        if not self.isdir(path):
            raise self._missing(path)
        self.cwd = self.fs2ftp(path)

    def listdir(self, path: str) -> list[str]:
        listing = self._listing(posixpath.normpath(path))
        if listing is None:
            raise self._missing(path)
        return sorted(listing)

    def listdirinfo(self, path: str) -> list[str]:
        return self.listdir(path)

    def stat(self, path: str) -> os.stat_result:
        entry = self._entry(path)
        if entry is None:
            raise self._missing(path)
        mode = _DIR_MODE if entry.is_dir else _FILE_MODE
        return os.stat_result((mode, 0, 0, 1, 0, 0, entry.size, entry.mtime, entry.mtime, entry.mtime))

    lstat = stat

    def isfile(self, path: str) -> bool:
        entry = self._entry(path)
        return entry is not None and not entry.is_dir

    def isdir(self, path: str) -> bool:
        entry = self._entry(path)
        return entry is not None and entry.is_dir

    def islink(self, path: str) -> bool:
        return False

    def lexists(self, path: str) -> bool:
        return self._entry(path) is not None

    def getsize(self, path: str) -> int:
        return int(self.stat(path).st_size)

    def getmtime(self, path: str) -> float:
        return float(self.stat(path).st_mtime)

    def get_user_by_uid(self, uid: int) -> str:
        return "hub"

    def get_group_by_gid(self, gid: int) -> str:
        return "hub"

    def open(self, filename: str, mode: str) -> Any:
        if "r" not in mode or "+" in mode:
            raise PermissionError(13, "Read-only", filename)
        path = posixpath.normpath(filename)
        mapped = self._mapped(path)
        if mapped is None or not mapped[1] or not self.isfile(path):
            raise self._missing(filename)
        target, below = mapped
        body = self.s3.get_object(Bucket=self.bucket, Key=f"{target}/{below}")["Body"]
        return _Retrieved(path, body)

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Read-only")

    mkdir = rmdir = remove = rename = chmod = utime = mkstemp = _read_only


class Handler(FTPHandler):
    """pyftpdlib's handler, with NLST patterns and the account's access kept on the session."""

    access: Access | None = None
    s3: Any = None
    bucket = ""
    auth_failed_timeout = 1  # seconds before a refused login is answered (pyftpdlib's default is 3)

    def ftp_NLST(self, path: str) -> str | None:
        head, tail = posixpath.split(path)
        if not glob.has_magic(tail):
            listed: str | None = super().ftp_NLST(path)
            return listed
        try:
            names = [n for n in self.fs.listdir(head) if fnmatch.fnmatchcase(n, tail)]
        except (OSError, FilesystemError) as err:
            self.respond(f"550 {err.strerror if isinstance(err, OSError) else err}.")
            return None
        data = "".join(f"{n}\r\n" for n in sorted(names)).encode(self.encoding, self.unicode_errors)
        self.push_dtp_data(data, cmd="NLST")
        return path


class FtpServer:
    def __init__(self, port: int = DEFAULT_PORT, host: str = "127.0.0.1") -> None:
        logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
        handler = type("LocalHandler", (Handler,), {
            "authorizer": Authorizer(), "abstracted_fs": BucketFS, "s3": boto3.client("s3"),
            "bucket": os.environ["BUCKET_NAME"], "banner": "Lending hub FTP (local). Files in /HUB/O/.",
            "passive_ports": None, "permit_foreign_addresses": False,
        })
        self.server = FTPServer((host, port), handler, ioloop=IOLoop())
        self.host, self.port = host, int(self.server.socket.getsockname()[1])
        self.url = f"ftp://{host}:{self.port}"
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="ftp")

    def _serve(self) -> None:
        # pyftpdlib's loop is not thread-safe: it runs in short turns here and is closed by its own thread.
        while not self._stopping.is_set():
            self.server.serve_forever(timeout=0.1, blocking=False, handle_exit=False)
        self.server.close_all()

    def start(self) -> FtpServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
