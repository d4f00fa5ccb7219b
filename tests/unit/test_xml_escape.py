"""The doors' XML escaping (`web.xml_text`, `web.xml_attribute`) makes what xml.sax.saxutils' escape and
quoteattr make, which it replaces to keep the xml.sax package out of v1's and the harvest's cold start."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from hypothesis import given
from hypothesis import strategies as st

from lending.web import xml_attribute, xml_text

SPECIAL = st.text(alphabet=st.sampled_from("&<>\"'\n\r\t a&amp;é\u2028"), max_size=30)


@given(st.one_of(st.text(max_size=60), SPECIAL))
def test_as_saxutils(value: str) -> None:
    assert xml_text(value) == escape(value)
    assert xml_attribute(value) == quoteattr(value)


def test_the_three_quotings() -> None:
    assert xml_attribute('a "b"') == "'a \"b\"'"
    assert xml_attribute("it's") == '"it\'s"'
    assert xml_attribute("\"it's\"\n") == '"&quot;it\'s&quot;&#10;"'
    assert xml_text("<a & b>") == "&lt;a &amp; b&gt;"
