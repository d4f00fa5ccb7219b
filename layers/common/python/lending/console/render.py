"""Pages from Jinja2 templates (templates/), HTML-escaped by default: every value a page shows is
escaped unless a template marks it safe (only the QR code's SVG, made here by segno)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..domain.dates import iso
from .i18n import translator

TEMPLATES = Path(__file__).with_name("templates")


if TYPE_CHECKING:
    import jinja2


@cache
def _env() -> jinja2.Environment:
    import jinja2  # on the first page, not at import: the handler module stays light

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["date"] = lambda d: iso(d)[:10] if isinstance(d, datetime) else "—"
    env.filters["datetime"] = lambda d: iso(d)[:16].replace("T", " ") + " UTC" if isinstance(d, datetime) else "—"
    return env


def render(name: str, lang: str, **values: Any) -> str:
    return _env().get_template(name).render(t=translator(lang), lang=lang, **values)


def qr_svg(uri: str) -> str:
    """The enrolment QR code as inline SVG (no image request, nothing for a CSP to allow)."""
    import segno

    return str(segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff", omitsize=False))
