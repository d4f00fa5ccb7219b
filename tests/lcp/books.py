"""A test EPUB with every kind of resource LCP treats differently: the package document, a navigation
document, an NCX and a cover image (all left clear), XHTML and CSS (deflated then encrypted), an image
(encrypted as it is), a large chapter (many AES blocks), and a path with a space and an accent."""

from __future__ import annotations

import io
import random
import zipfile

OPF = """<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="id">urn:isbn:9791000000015</dc:identifier><dc:title>Épreuve</dc:title>
    <dc:language>fr</dc:language><meta property="dcterms:modified">2026-01-01T00:00:00Z</meta>
  </metadata>
  <manifest>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
    <item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>
    <item id="cover" href="images/cover.jpg" media-type="image/jpeg" properties="cover-image"/>
    <item id="c1" href="text/chapitre%20un%C3%A9.xhtml" media-type="application/xhtml+xml"/>
    <item id="c2" href="text/long.xhtml" media-type="application/xhtml+xml"/>
    <item id="css" href="style.css" media-type="text/css"/>
    <item id="img" href="images/plan.png" media-type="image/png"/>
  </manifest>
  <spine toc="ncx"><itemref idref="c1"/><itemref idref="c2"/></spine>
</package>
"""


def build(seed: int = 7) -> bytes:
    rnd = random.Random(seed)
    words = ["lecture", "bibliothèque", "prêt", "licence", "chapitre", "œuvre", "Ünïcödé"]
    long_text = " ".join(rnd.choice(words) for _ in range(40_000))
    files = {
        "META-INF/container.xml": b'<?xml version="1.0"?><container version="1.0" '
        b'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" '
        b'media-type="application/oebps-package+xml"/></rootfiles></container>',
        "OEBPS/content.opf": OPF.encode(),
        "OEBPS/nav.xhtml": b"<html xmlns='http://www.w3.org/1999/xhtml'><body><nav>toc</nav></body></html>",
        "OEBPS/toc.ncx": b"<ncx xmlns='http://www.daisy.org/z3986/2005/ncx/'/>",
        "OEBPS/images/cover.jpg": bytes(rnd.getrandbits(8) for _ in range(3000)),
        "OEBPS/text/chapitre uné.xhtml": "<html><body><p>Premier chapitre, accentué.</p></body></html>".encode(),
        "OEBPS/text/long.xhtml": f"<html><body><p>{long_text}</p></body></html>".encode(),
        "OEBPS/style.css": b"body { margin: 0 }\n",
        "OEBPS/images/plan.png": bytes(rnd.getrandbits(8) for _ in range(50_001)),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        for name, data in files.items():
            z.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def entries(epub: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(epub)) as z:
        return {n: z.read(n) for n in z.namelist()}
