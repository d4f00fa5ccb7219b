"""Small, valid EPUB 3 files for the demo offers, built here (never committed) and put in the bucket.

An EPUB is a zip whose first entry is `mimetype`, stored uncompressed, holding application/epub+zip;
META-INF/container.xml names the package document, which lists the content and the reading order."""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

from ..domain.offers import Offer
from ..services import files

_WHEN = (2026, 1, 1, 0, 0, 0)  # fixed entry dates: the same book gives the same bytes

CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
"""

PACKAGE = """<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id" xml:lang="fr">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="id">urn:isbn:{ean13}</dc:identifier>
    <dc:title>{title}</dc:title>
    <dc:creator>{publisher}</dc:creator>
    <dc:language>fr</dc:language>
    <meta property="dcterms:modified">2026-01-01T00:00:00Z</meta>
  </metadata>
  <manifest>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
    <item id="text" href="text.xhtml" media-type="application/xhtml+xml"/>
    <item id="ch2" href="chapter2.xhtml" media-type="application/xhtml+xml"/>
    <item id="ch3" href="chapter3.xhtml" media-type="application/xhtml+xml"/>
  </manifest>
  <spine>
    <itemref idref="text"/>
    <itemref idref="ch2"/>
    <itemref idref="ch3"/>
  </spine>
</package>
"""

NAV = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" xml:lang="fr" lang="fr">
  <head><title>{title}</title></head>
  <body>
    <nav epub:type="toc" id="toc"><ol><li><a href="text.xhtml">{title}</a></li>
      <li><a href="chapter2.xhtml">Chapitre 2</a></li><li><a href="chapter3.xhtml">Chapitre 3</a></li></ol></nav>
  </body>
</html>
"""

TEXT = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="fr" lang="fr">
  <head><title>{title}</title></head>
  <body>
    <h1>{title}</h1>
    <p>Livre de démonstration du hub de prêt numérique (EAN {ean13}).</p>
  </body>
</html>
"""

CHAPTER = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="fr" lang="fr">
  <head><title>Chapitre {n}</title></head>
  <body>
    <h2>Chapitre {n}</h2>
    <p>Suite du livre de démonstration {title}, chapitre {n} (une page par chapitre, pour le lecteur en ligne).</p>
  </body>
</html>
"""


def build(ean13: str, title: str, publisher: str = "Editions Demo") -> bytes:
    values = {"ean13": escape(ean13), "title": escape(title), "publisher": escape(publisher)}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype", _WHEN), "application/epub+zip",
                   compress_type=zipfile.ZIP_STORED)
        for name, text in (("META-INF/container.xml", CONTAINER), ("OEBPS/content.opf", PACKAGE),
                           ("OEBPS/nav.xhtml", NAV), ("OEBPS/text.xhtml", TEXT),
                           ("OEBPS/chapter2.xhtml", CHAPTER), ("OEBPS/chapter3.xhtml", CHAPTER)):
            n = name[-7]  # chapter2.xhtml -> 2
            z.writestr(zipfile.ZipInfo(name, _WHEN), text.format(**values, n=n),
                       compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def load(offers: list[Offer]) -> None:
    """One EPUB per EAN of the catalogue in the bucket (BUCKET_NAME)."""
    for ean13, offer in {o.ean13: o for o in offers}.items():
        files.ingest_epub(ean13, build(ean13, offer.title, offer.publisher or "Editions Demo"))
