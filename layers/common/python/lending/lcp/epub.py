"""Protecting an EPUB for LCP, once per publication: each resource the spec allows is deflated (unless
its type is already compressed), then AES-256-CBC encrypted with the publication's content key, stored
uncompressed in the zip, and declared in META-INF/encryption.xml with its compression and length.

Left clear, as LCP 2.1 requires: mimetype, META-INF/*, the package documents, navigation documents,
NCX documents and cover images."""

from __future__ import annotations

import hashlib
import io
import posixpath
import zipfile
import zlib
from dataclasses import dataclass
from urllib.parse import quote, unquote
from xml.sax.saxutils import quoteattr

from lxml import etree

from . import crypto

AES256_CBC = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
CONTENT_KEY_URI = "license.lcpl#/encryption/content_key"
CONTENT_KEY_TYPE = "http://readium.org/2014/01/lcp#EncryptedContentKey"
MIMETYPE = "application/epub+zip"
ENCRYPTION_XML = "META-INF/encryption.xml"
# Types already compressed: deflating them again costs time for nothing (LCP 2.2: stored as they are).
CODEC_PREFIXES = ("image/", "audio/", "video/", "font/")
CODEC_TYPES = {"application/font-woff", "application/vnd.ms-opentype", "application/x-font-ttf",
               "application/zip", "application/pdf"}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
_NS = {"c": "urn:oasis:names:tc:opendocument:xmlns:container", "opf": "http://www.idpf.org/2007/opf"}


class NotAnEpub(ValueError):
    """The file cannot be protected (not a zip, no container, already encrypted or obfuscated)."""


@dataclass(frozen=True)
class Protected:
    content: bytes  # the protected EPUB
    encrypted: tuple[str, ...]  # paths of the encrypted resources
    sha256: str  # hex digest of `content` (the licence's publication link carries it, base64)


def _xml(data: bytes, what: str) -> etree._Element:
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as e:
        raise NotAnEpub(f"{what} is not well-formed XML") from e


def clear_paths(z: zipfile.ZipFile) -> tuple[set[str], dict[str, str]]:
    """The paths that must stay clear, and the media type of every manifest item (by path)."""
    names = set(z.namelist())
    if "META-INF/container.xml" not in names:
        raise NotAnEpub("no META-INF/container.xml")
    clear = {n for n in names if n == "mimetype" or n.startswith("META-INF/")}
    types: dict[str, str] = {}
    container = _xml(z.read("META-INF/container.xml"), "container.xml")
    for rootfile in container.iterfind(".//c:rootfile", _NS):
        opf_path = rootfile.get("full-path", "")
        if opf_path not in names:
            raise NotAnEpub(f"the package document {opf_path} is missing")
        clear.add(opf_path)
        base = posixpath.dirname(opf_path)
        package = _xml(z.read(opf_path), opf_path)
        for item in package.iterfind(".//opf:manifest/opf:item", _NS):
            path = posixpath.normpath(posixpath.join(base, unquote(item.get("href", ""))))
            media_type = item.get("media-type", "")
            types[path] = media_type
            props = (item.get("properties") or "").split()
            if "nav" in props or "cover-image" in props or media_type == "application/x-dtbncx+xml":
                clear.add(path)
    return clear, types


def is_codec(media_type: str) -> bool:
    return media_type.startswith(CODEC_PREFIXES) or media_type in CODEC_TYPES


def _entry(name: str, data: bytes, store: bool) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED if store else zipfile.ZIP_DEFLATED
    return info, data


def protect(epub: bytes, content_key: bytes) -> Protected:
    """The protected EPUB of `epub`, every resource the spec allows encrypted with `content_key`."""
    try:
        z = zipfile.ZipFile(io.BytesIO(epub))
    except zipfile.BadZipFile as e:
        raise NotAnEpub("not a zip file") from e
    with z:
        if ENCRYPTION_XML in z.namelist():
            raise NotAnEpub("already has META-INF/encryption.xml (encrypted or obfuscated resources)")
        clear, types = clear_paths(z)
        entries: list[tuple[zipfile.ZipInfo, bytes]] = [_entry("mimetype", MIMETYPE.encode(), store=True)]
        declared: list[str] = []
        done: list[str] = []
        for info in z.infolist():
            name = info.filename
            if name == "mimetype" or info.is_dir():
                continue
            data = z.read(name)
            if name in clear:
                entries.append(_entry(name, data, store=False))
                continue
            deflate = not is_codec(types.get(name, ""))
            body = _deflate(data) if deflate else data
            entries.append(_entry(name, crypto.encrypt(content_key, body), store=True))
            declared.append(_declaration(len(declared) + 1, name, 8 if deflate else 0, len(data)))
            done.append(name)
        entries.insert(1, _entry(ENCRYPTION_XML, _encryption_xml(declared), store=False))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as w:
        for info, data in entries:
            w.writestr(info, data)
    content = out.getvalue()
    return Protected(content, tuple(done), hashlib.sha256(content).hexdigest())


def _deflate(data: bytes) -> bytes:
    c = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)  # raw deflate, as zip entries
    return c.compress(data) + c.flush()


def _declaration(n: int, path: str, method: int, length: int) -> str:
    return f"""  <enc:EncryptedData Id="ED{n}">
    <enc:EncryptionMethod Algorithm="{AES256_CBC}"/>
    <ds:KeyInfo>
      <ds:RetrievalMethod URI="{CONTENT_KEY_URI}" Type="{CONTENT_KEY_TYPE}"/>
    </ds:KeyInfo>
    <enc:CipherData>
      <enc:CipherReference URI={quoteattr(quote(path, safe="/"))}/>
    </enc:CipherData>
    <enc:EncryptionProperties>
      <enc:EncryptionProperty xmlns:ns="http://www.idpf.org/2016/encryption#compression">
        <ns:Compression Method="{method}" OriginalLength="{length}"/>
      </enc:EncryptionProperty>
    </enc:EncryptionProperties>
  </enc:EncryptedData>
"""


def _encryption_xml(declared: list[str]) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
            'xmlns:enc="http://www.w3.org/2001/04/xmlenc#" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">\n'
            + "".join(declared) + "</encryption>\n").encode()


def unprotect(protected: bytes, content_key: bytes) -> dict[str, bytes]:
    """Every resource of a protected EPUB back in clear (by path): the hub's own check of `protect`."""
    out: dict[str, bytes] = {}
    with zipfile.ZipFile(io.BytesIO(protected)) as z:
        enc = _xml(z.read(ENCRYPTION_XML), ENCRYPTION_XML)
        how: dict[str, int] = {}
        for data in enc.iterfind(".//{http://www.w3.org/2001/04/xmlenc#}EncryptedData"):
            ref = data.find(".//{http://www.w3.org/2001/04/xmlenc#}CipherReference")
            comp = data.find(".//{http://www.idpf.org/2016/encryption#compression}Compression")
            if ref is not None:
                how[unquote(ref.get("URI", ""))] = int(comp.get("Method", "0")) if comp is not None else 0
        for name in z.namelist():
            raw = z.read(name)
            if name in how:
                raw = crypto.decrypt(content_key, raw)
                raw = zlib.decompress(raw, -15) if how[name] == 8 else raw
            out[name] = raw
    return out
