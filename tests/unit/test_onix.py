"""ONIX 3.0 reading and writing: every field the hub takes, invalid records, malformed files, memory."""

from __future__ import annotations

import io
import itertools
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lending.catalogue import onix
from lending.catalogue.onix import OnixError, Rejected, Removal
from lending.domain.identifiers import with_check_digit
from lending.domain.offers import LicenceTerms, Offer
from lending.domain.values import replace
from lending.local import demo

GLN = "3010999000018"
OTHER = "3010999000025"
NS = 'xmlns="http://ns.editeur.org/onix/3.0/reference"'

FULL_TERMS = """
  <EpubUsageConstraint><EpubUsageType>06</EpubUsageType><EpubUsageStatus>02</EpubUsageStatus>
    <EpubUsageLimit><Quantity>40</Quantity><EpubUsageUnit>10</EpubUsageUnit></EpubUsageLimit>
    <EpubUsageLimit><Quantity>3</Quantity><EpubUsageUnit>13</EpubUsageUnit></EpubUsageLimit>
  </EpubUsageConstraint>
  <EpubUsageConstraint><EpubUsageType>07</EpubUsageType><EpubUsageStatus>02</EpubUsageStatus>
    <EpubUsageLimit><Quantity>730</Quantity><EpubUsageUnit>09</EpubUsageUnit></EpubUsageLimit>
  </EpubUsageConstraint>
  <EpubUsageConstraint><EpubUsageType>09</EpubUsageType><EpubUsageStatus>02</EpubUsageStatus>
    <EpubUsageLimit><Quantity>4</Quantity><EpubUsageUnit>07</EpubUsageUnit></EpubUsageLimit>
  </EpubUsageConstraint>
  <EpubUsageConstraint><EpubUsageType>10</EpubUsageType><EpubUsageStatus>02</EpubUsageStatus>
    <EpubUsageLimit><Quantity>2</Quantity><EpubUsageUnit>07</EpubUsageUnit></EpubUsageLimit>
  </EpubUsageConstraint>
  <EpubUsageConstraint><EpubUsageType>01</EpubUsageType><EpubUsageStatus>02</EpubUsageStatus>
    <EpubUsageLimit><Quantity>10</Quantity><EpubUsageUnit>05</EpubUsageUnit></EpubUsageLimit>
    <EpubUsageLimit><Quantity>3</Quantity><EpubUsageUnit>07</EpubUsageUnit></EpubUsageLimit>
  </EpubUsageConstraint>
  <EpubUsageConstraint><EpubUsageType>02</EpubUsageType><EpubUsageStatus>03</EpubUsageStatus></EpubUsageConstraint>
  <EpubLicense><EpubLicenseName>Licence PNB</EpubLicenseName></EpubLicense>"""

BASIC_TERMS = """
  <EpubUsageConstraint><EpubUsageType>06</EpubUsageType><EpubUsageStatus>02</EpubUsageStatus>
    <EpubUsageLimit><Quantity>10</Quantity><EpubUsageUnit>10</EpubUsageUnit></EpubUsageLimit>
    <EpubUsageLimit><Quantity>21</Quantity><EpubUsageUnit>09</EpubUsageUnit></EpubUsageLimit>
  </EpubUsageConstraint>
  <EpubUsageConstraint><EpubUsageType>07</EpubUsageType><EpubUsageStatus>02</EpubUsageStatus>
    <EpubUsageLimit><Quantity>365</Quantity><EpubUsageUnit>09</EpubUsageUnit></EpubUsageLimit>
  </EpubUsageConstraint>"""

PRICE = """<Price><PriceType>04</PriceType><PriceAmount>15.00</PriceAmount>
  <Tax><TaxType>01</TaxType><TaxRatePercent>5.5</TaxRatePercent><TaxableAmount>14.22</TaxableAmount>
  <TaxAmount>0.78</TaxAmount></Tax><CurrencyCode>EUR</CurrencyCode></Price>"""


def product(
    ean: str = "9791000000091",
    *,
    notification: str = "03",
    ids: str | None = None,
    terms: str = BASIC_TERMS,
    title: str = "<TitleText>Un titre</TitleText>",
    extra_desc: str = "",
    supplier: str = GLN,
    availability: str = "20",
    prices: str = PRICE,
    publishing: str = "",
    ref: str = "REF-1",
) -> str:
    ids = (
        ids
        if ids is not None
        else (
            f"<ProductIdentifier><ProductIDType>15</ProductIDType><IDValue>{ean}</IDValue></ProductIdentifier>"
        )
    )
    supplier_xml = (
        f"<Supplier><SupplierRole>03</SupplierRole><SupplierIdentifier><SupplierIDType>06"
        f"</SupplierIDType><IDValue>{supplier}</IDValue></SupplierIdentifier></Supplier>"
        if supplier
        else "<Supplier><SupplierRole>03</SupplierRole><SupplierName>X</SupplierName></Supplier>"
    )
    avail = f"<ProductAvailability>{availability}</ProductAvailability>" if availability else ""
    return f"""<Product><RecordReference>{ref}</RecordReference>
  <NotificationType>{notification}</NotificationType>
  {ids}
  <DescriptiveDetail><ProductComposition>00</ProductComposition><ProductForm>ED</ProductForm>{extra_desc}
  {terms}
  <TitleDetail><TitleType>01</TitleType><TitleElement><TitleElementLevel>01</TitleElementLevel>{title}
  </TitleElement></TitleDetail></DescriptiveDetail>{publishing}
  <ProductSupply><SupplyDetail>{supplier_xml}{avail}{prices}</SupplyDetail></ProductSupply></Product>"""


def message(*products: str, header: str = "", ns: str = NS, release: str = "3.0") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ONIXMessage release="{release}" {ns}>'
        f"<Header><Sender><SenderName>Distributeur</SenderName></Sender><SentDateTime>20260105T1200Z"
        f"</SentDateTime>{header}</Header>{''.join(products)}</ONIXMessage>"
    ).encode()


def read(data: bytes, gln: str = GLN) -> tuple[list[onix.Notice], list[Rejected]]:
    rejected: list[Rejected] = []
    return list(onix.read(io.BytesIO(data), gln, rejected.append)), rejected


def test_every_field_of_a_full_record() -> None:
    record = product(
        "9782070360024",
        ids="<ProductIdentifier><ProductIDType>01</ProductIDType><IDValue>own-42</IDValue></ProductIdentifier>"
        "<ProductIdentifier><ProductIDType>03</ProductIDType><IDValue>9782070360024</IDValue></ProductIdentifier>"
        "<ProductIdentifier><ProductIDType>15</ProductIDType><IDValue>9782070360024</IDValue></ProductIdentifier>",
        extra_desc="<ProductFormDetail>E101</ProductFormDetail><ProductFormDetail>E107</ProductFormDetail>",
        terms=FULL_TERMS
        + """<Contributor><SequenceNumber>2</SequenceNumber><ContributorRole>B06</ContributorRole>
             <NamesBeforeKey>Anne</NamesBeforeKey><KeyNames>Traductrice</KeyNames></Contributor>
             <Contributor><SequenceNumber>1</SequenceNumber><ContributorRole>A01</ContributorRole>
             <PersonName>Albert Camus</PersonName></Contributor>
             <Contributor><SequenceNumber>3</SequenceNumber><ContributorRole>A01</ContributorRole>
             <CorporateName>Collectif</CorporateName></Contributor>""",
        title="<TitlePrefix>L'</TitlePrefix><TitleWithoutPrefix>Etranger</TitleWithoutPrefix>",
        publishing="""<PublishingDetail><Publisher><PublishingRole>02</PublishingRole>
            <PublisherName>Co-editeur</PublisherName></Publisher><Publisher><PublishingRole>01</PublishingRole>
            <PublisherName>Gallimard</PublisherName></Publisher></PublishingDetail>""",
        availability="21",
        prices="""<Price><PriceType>01</PriceType><PriceAmount>19.90</PriceAmount><CurrencyCode>CHF</CurrencyCode></Price>
                  <Price><PriceType>04</PriceType><PriceAmount>12.99</PriceAmount><Tax><TaxType>01</TaxType>
                  <TaxRatePercent>5.5</TaxRatePercent><TaxableAmount>12.31</TaxableAmount><TaxAmount>0.68</TaxAmount>
                  </Tax><CurrencyCode>EUR</CurrencyCode></Price>""",
    )
    (offer,), rejected = read(message(record))
    assert rejected == []
    assert offer == Offer(
        ean13="9782070360024",
        gln_distributor=GLN,
        title="L' Etranger",
        terms=LicenceTerms(
            loans=40, downloads=4, onsite_streams=2, offsite_streams=3, licence_days=730, max_loan_days=21
        ),
        price_ttc=1299,
        price_ht=1231,
        currency="EUR",
        tax_rate=550,
        availability="21",
        removed=False,
        publisher="Gallimard",
        contributors=("Albert Camus", "Anne Traductrice", "Collectif"),
        formats=("epub", "pdf"),
    )
    assert offer.available


def test_defaults_for_pools_and_single_user() -> None:
    (offer,), _ = read(message(product()))
    assert isinstance(offer, Offer)
    assert offer.terms == LicenceTerms(
        loans=10, downloads=1, onsite_streams=0, offsite_streams=0, licence_days=365, max_loan_days=21
    )
    prohibited = (
        BASIC_TERMS
        + """
      <EpubUsageConstraint><EpubUsageType>09</EpubUsageType><EpubUsageStatus>03</EpubUsageStatus></EpubUsageConstraint>
      <EpubUsageConstraint><EpubUsageType>10</EpubUsageType><EpubUsageStatus>03</EpubUsageStatus></EpubUsageConstraint>
      <EpubUsageConstraint><EpubUsageType>01</EpubUsageType><EpubUsageStatus>01</EpubUsageStatus></EpubUsageConstraint>"""
    )
    (offer,), _ = read(message(product(terms=prohibited)))
    assert isinstance(offer, Offer)
    assert (offer.terms.downloads, offer.terms.onsite_streams, offer.terms.offsite_streams) == (1, 0, 0)


def test_prices_excluding_tax_from_another_price_or_the_rate_and_header_defaults() -> None:
    other_price = """<Price><PriceType>04</PriceType><PriceAmount>24</PriceAmount></Price>
                     <Price><PriceType>03</PriceType><PriceAmount>22.75</PriceAmount></Price>"""
    header = "<DefaultPriceType>04</DefaultPriceType><DefaultCurrencyCode>EUR</DefaultCurrencyCode>"
    (a,), _ = read(message(product(prices=other_price), header=header))
    assert isinstance(a, Offer)
    assert (a.price_ttc, a.price_ht, a.currency, a.tax_rate) == (2400, 2275, "EUR", None)
    by_rate = (
        """<Price><PriceAmount>30.00</PriceAmount><Tax><TaxRatePercent>5.5</TaxRatePercent></Tax></Price>"""
    )
    (b,), _ = read(message(product(prices=by_rate), header=header))
    assert isinstance(b, Offer)
    assert (b.price_ttc, b.price_ht, b.tax_rate) == (3000, 2844, 550)


def test_a_file_without_namespace_reads_the_same() -> None:
    with_ns, _ = read(message(product()))
    without, _ = read(message(product(), ns=""))
    assert with_ns == without and len(with_ns) == 1


def test_removal_needs_only_the_identifier() -> None:
    removal = (
        "<Product><RecordReference>R</RecordReference><NotificationType>05</NotificationType>"
        "<ProductIdentifier><ProductIDType>03</ProductIDType><IDValue>9791000000015</IDValue>"
        "</ProductIdentifier></Product>"
    )
    notices, rejected = read(message(removal))
    assert notices == [Removal("9791000000015", GLN)] and rejected == []


@pytest.mark.parametrize(
    ("record", "identifier", "reason"),
    [
        (product("9791000000092"), "9791000000092", "valid check digit"),
        (product(ids=""), "REF-1", "no ProductIdentifier"),
        (
            product(
                ids="<ProductIdentifier><ProductIDType>15</ProductIDType><IDValue>9791000000015</IDValue>"
                "</ProductIdentifier><ProductIdentifier><ProductIDType>03</ProductIDType>"
                "<IDValue>9791000000022</IDValue></ProductIdentifier>"
            ),
            "9791000000015",
            "differ",
        ),
        (product(notification="88"), "9791000000091", "NotificationType 88"),
        (product(title=""), "9791000000091", "no title"),
        (product(terms=""), "9791000000091", "missing licence terms"),
        (
            product(
                terms=BASIC_TERMS.replace(
                    "<EpubUsageStatus>02</EpubUsageStatus>", "<EpubUsageStatus>01</EpubUsageStatus>", 1
                )
            ),
            "9791000000091",
            "Lend) must be limited",
        ),
        (product(prices=PRICE.replace(">EUR<", ">eur<")), "9791000000091", "CurrencyCode 'eur' is not an ISO 4217"),
        (product(prices=PRICE.replace(">EUR<", ">€<")), "9791000000091", "is not an ISO 4217 code"),
        (
            product(
                terms=BASIC_TERMS
                + "<EpubUsageConstraint><EpubUsageType>09</EpubUsageType><EpubUsageStatus>01"
                "</EpubUsageStatus></EpubUsageConstraint>"
            ),
            "9791000000091",
            "unlimited concurrent",
        ),
        (
            product(terms=BASIC_TERMS.replace("<Quantity>365</Quantity>", "<Quantity>0</Quantity>")),
            "9791000000091",
            "must be from 1 to 36600",
        ),
        (  # a licence of 3 million years would end past what a date can hold
            product(terms=BASIC_TERMS.replace("<Quantity>365</Quantity>", "<Quantity>1095000000</Quantity>")),
            "9791000000091",
            "must be from 1 to 36600",
        ),
        (
            product(terms=BASIC_TERMS.replace("<Quantity>10</Quantity>", "<Quantity>" + "9" * 40 + "</Quantity>")),
            "9791000000091",
            "must be from 0 to 1000000000",
        ),
        (
            product(terms=BASIC_TERMS.replace("<Quantity>10</Quantity>", "<Quantity>ten</Quantity>")),
            "9791000000091",
            "whole number",
        ),
        (product(availability=""), "9791000000091", "no ProductAvailability"),
        (product(prices=""), "9791000000091", "no Price"),
        (product(prices=PRICE.replace("15.00", "15.001")), "9791000000091", "not an amount in cents"),
        (product(prices=PRICE.replace("15.00", "abc")), "9791000000091", "not a number"),
        (product(prices=PRICE.replace("14.22", "16.00")), "9791000000091", "above the price including tax"),
        (
            product(prices=PRICE.replace("<CurrencyCode>EUR</CurrencyCode>", "")),
            "9791000000091",
            "CurrencyCode",
        ),
        (product(supplier=OTHER), "9791000000091", f"supplied by {OTHER}"),
    ],
)
def test_invalid_records_are_reported_and_skipped(record: str, identifier: str, reason: str) -> None:
    notices, rejected = read(
        message(product("9791000000015", ref="A"), record, product("9791000000022", ref="B"))
    )
    assert [n.ean13 for n in notices] == ["9791000000015", "9791000000022"]
    assert len(rejected) == 1 and rejected[0].identifier == identifier, rejected
    assert reason in rejected[0].reason


def _amount(field: str, value: str) -> str:
    """PRICE with one of its amounts replaced."""
    old = {"PriceAmount": "15.00", "TaxRatePercent": "5.5", "TaxableAmount": "14.22"}[field]
    return PRICE.replace(f"<{field}>{old}</{field}>", f"<{field}>{value}</{field}>")


def _quantity(value: str) -> str:
    return BASIC_TERMS.replace("<Quantity>10</Quantity>", f"<Quantity>{value}</Quantity>")


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        # str.isdigit() takes "²" but int() does not; int() takes "٣" (Arabic-Indic 3), no feed means it.
        (product(terms=_quantity("²")), "EpubUsageLimit Quantity '²' is not a whole number"),
        (product(terms=_quantity("٣")), "EpubUsageLimit Quantity '٣' is not a whole number"),
        # Past int()'s 4300 digits: still the terms' own bound, not a ValueError.
        (product(terms=_quantity("9" * 5000)), "loans must be from 0 to 1000000000"),
        *[
            (product(prices=_amount(field, value)), f"{field} {value!r} is not a number")
            for field in ("PriceAmount", "TaxRatePercent", "TaxableAmount")
            for value in ("sNaN", "NaN", "Infinity", "-Infinity", "1E+999999", "1E+40", "1_500", "-1", "١٥")
        ],
        (product(prices=_amount("PriceAmount", "10000000.01")), "PriceAmount '10000000.01' is above 10000000"),
        (product(prices=_amount("PriceAmount", "9" * 5000)), "is above 10000000"),
        (product(prices=_amount("TaxableAmount", "10000000.01")), "TaxableAmount '10000000.01' is above"),
        (product(prices=_amount("TaxRatePercent", "1000")), "TaxRatePercent '1000' is above 999.99"),
        (product(prices=_amount("TaxRatePercent", "5.555")), "is not a percentage in hundredths"),
        (product(prices=_amount("PriceAmount", "1." + "0" * 40 + "1")), "is not an amount in cents"),
    ],
)
def test_malformed_numbers_are_the_record_s_error_never_the_file_s(record: str, reason: str) -> None:
    notices, rejected = read(
        message(product("9791000000015", ref="A"), record, product("9791000000022", ref="B"))
    )
    assert [n.ean13 for n in notices] == ["9791000000015", "9791000000022"]
    assert [r.identifier for r in rejected] == ["9791000000091"] and reason in rejected[0].reason, rejected


def test_amounts_up_to_the_bounds_of_the_hub_s_requests_are_read() -> None:
    prices = _amount("PriceAmount", "10000000.00").replace("14.22", "9999999.99").replace("5.5", "999.99")
    (offer,), rejected = read(message(product(prices=prices)))
    assert rejected == [] and isinstance(offer, Offer)
    assert (offer.price_ttc, offer.price_ht, offer.tax_rate) == (10**9, 10**9 - 1, 99_999)
    (offer,), _ = read(message(product(prices=_amount("PriceAmount", "0015.5000").replace("14.22", ".5"))))
    assert isinstance(offer, Offer) and (offer.price_ttc, offer.price_ht) == (1550, 50)


def test_a_product_identifier_of_unicode_digits_is_the_record_s_error() -> None:
    notices, rejected = read(message(product("97910000²0091"), product("9791000000022", ref="B")))
    assert [n.ean13 for n in notices] == ["9791000000022"]
    assert rejected == [Rejected("97910000²0091", "ProductIdentifier '97910000²0091' is not 13 digits with a "
                                                  "valid check digit")]


def test_a_sequence_number_that_is_not_ascii_digits_is_read_as_absent() -> None:
    """As any SequenceNumber that is not a number: the record is kept, that contributor comes after the
    numbered ones; int() never sees "²" nor 5000 digits (capped, so sorted last)."""
    contributors = "".join(
        f"<Contributor><SequenceNumber>{seq}</SequenceNumber><PersonName>{name}</PersonName></Contributor>"
        for seq, name in (("²", "Second"), ("1", "First"), ("9" * 5000, "Huge"))
    )
    notices, rejected = read(message(product(extra_desc=contributors), product("9791000000022", ref="B")))
    assert rejected == [] and [n.ean13 for n in notices] == ["9791000000091", "9791000000022"]
    assert isinstance(notices[0], Offer) and notices[0].contributors == ("First", "Second", "Huge")


def test_an_unexpected_error_costs_its_record_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The last line of defence: a fault of the reader on one record is that record's report (with its
    identifier and the exception's type), and the file goes on; a broken file still raises OnixError."""
    title = onix._title

    def buggy(parts: dict[str, str]) -> str | None:
        if parts.get("TitleText") == "Bug":
            raise KeyError("boom")
        return title(parts)

    monkeypatch.setattr(onix, "_title", buggy)  # raises before the identifier is checked
    bug = "<TitleText>Bug</TitleText>"
    whole = message(
        product("9791000000015", ref="A"),
        product(title=bug),
        product(ids="", title=bug, ref="NO-EAN"),
        product("9791000000022", ref="B"),
    )
    notices, rejected = read(whole)
    assert [n.ean13 for n in notices] == ["9791000000015", "9791000000022"]
    assert rejected == [
        Rejected("9791000000091", "record not readable (KeyError: 'boom')"),
        Rejected("NO-EAN", "record not readable (KeyError: 'boom')"),
    ]
    with pytest.raises(OnixError, match="not well-formed"):
        read(whole[: whole.index(b"9791000000022") + 40])


def test_a_record_without_supplier_gln_belongs_to_the_feed() -> None:
    (offer,), _ = read(message(product(supplier="")))
    assert isinstance(offer, Offer) and offer.gln_distributor == GLN


def test_malformed_files_raise_after_the_complete_records_before_the_fault() -> None:
    whole = message(product("9791000000015"), product("9791000000022"))
    truncated = whole[: whole.index(b"9791000000022") + 40]
    got: list[onix.Notice] = []
    with pytest.raises(OnixError, match="not well-formed"):
        got.extend(onix.read(io.BytesIO(truncated), GLN))
    assert [n.ean13 for n in got] == ["9791000000015"]
    for data, words in [
        (b"", "not well-formed"),
        (b"<html><body/></html>", "no ONIXMessage"),
        (message(product(), release="2.1"), "release 2.1"),
        (b'<ONIXmessage release="3.0"><header/></ONIXmessage>', "short tags"),
        (b"<Wrapper><ONIXMessage release='3.0'></ONIXMessage></Wrapper>", "not an ONIX 3.0 message"),
        (b"not xml at all", "not well-formed"),
    ]:
        with pytest.raises(OnixError, match=words):
            list(onix.read(io.BytesIO(data), GLN))


def test_entities_are_not_expanded_nor_fetched() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY x SYSTEM "file:///etc/passwd">]>'
        + message(product(title="<TitleText>&c;&x;</TitleText>"))[
            len(b'<?xml version="1.0" encoding="UTF-8"?>\n') :
        ]
    )
    notices, rejected = read(bomb)
    # The title's entities are left unexpanded: no text, so the record has no title and is rejected.
    assert notices == [] and rejected[0].reason.startswith("no title")


def test_write_then_read_gives_the_same_offers_removed_ones_as_removals() -> None:
    offers = demo.offers()
    removed = replace(offers[1], removed=True, contributors=("A", "B"), formats=("epub", "pdf"))
    buf = io.BytesIO()
    count = onix.write(
        buf, [*offers[:1], removed, *offers[2:4]], GLN, "Hub", datetime(2026, 1, 5, tzinfo=UTC)
    )
    assert count == 4
    notices, rejected = read(buf.getvalue())
    assert rejected == []
    assert notices == [offers[0], Removal(removed.ean13, GLN), offers[2], offers[3]]
    assert b"<SentDateTime>20260105T000000Z</SentDateTime>" in buf.getvalue()


def test_demo_onix_files_state_exactly_the_contract_catalogue() -> None:
    got = {(o.ean13, o.gln_distributor): o for o in demo.offers()}
    assert len(got) == len(demo.CATALOGUE) == 5
    for ean, dist, avail, ttc, ht, nta, dl, on, off, days, max_days, title in demo.CATALOGUE:
        o = got[(ean, dist)]
        assert (o.availability, o.price_ttc, o.price_ht, o.currency, o.title) == (
            avail,
            ttc,
            ht,
            "EUR",
            title,
        )
        assert o.terms == LicenceTerms(
            loans=nta,
            downloads=dl,
            onsite_streams=on,
            offsite_streams=off,
            licence_days=days,
            max_loan_days=max_days,
        )
        assert not o.removed
    assert got[("9791000000046", demo.DISTRIBUTOR)].unavailability() == "40"  # not available


class _Generated(io.RawIOBase):
    """An ONIX file of `n` products made on the fly: its size never exists in memory at once."""

    def __init__(self, n: int) -> None:
        self.parts = itertools.chain(
            [message()[: -len(b"</ONIXMessage>")]],
            (product(with_check_digit(f"979100{i:06d}")).encode() for i in range(n)),
            [b"</ONIXMessage>"],
        )
        self.buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        while len(self.buf) < len(b):
            part = next(self.parts, None)
            if part is None:
                break
            self.buf += part
        n = min(len(b), len(self.buf))
        b[:n] = self.buf[:n]
        self.buf = self.buf[n:]
        return n


def test_memory_stays_bounded_whatever_the_file_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tree never holds more than the product being read (libxml2's own memory is C, not traced:
    the tree size is checked directly), and Python's peak does not grow with the file."""
    kept: list[int] = []
    forget = onix.forget

    def watched(el: object) -> None:
        forget(el)
        parent = el.getparent()  # type: ignore[attr-defined]
        kept.append(len(parent) if parent is not None else 0)

    monkeypatch.setattr(onix, "forget", watched)

    def peak(n: int) -> tuple[int, int]:
        tracemalloc.start()
        try:
            count = sum(1 for _ in onix.read(io.BufferedReader(_Generated(n)), GLN))
            return count, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small_count, small = peak(200)
    small_kept, kept[:] = max(kept), []
    big_count, big = peak(4000)
    assert (small_count, big_count) == (200, 4000)
    # The root holds only the products the parser has read ahead of the events (one input chunk),
    # however many the file has.
    assert max(kept) <= small_kept < 100, (small_kept, max(kept))
    assert big < small * 1.5 + 256 * 1024, (small, big)


def test_what_the_hub_writes_is_valid_onix_3_against_the_official_schema(tmp_path: Path) -> None:
    """onixcheck ships EDItEUR's ONIX 3.0 reference XSD with its code lists: the update files and the demo
    files must pass it (element order, mandatory elements, every code the hub writes)."""
    from onixcheck import validate

    offers = demo.offers()
    removed = replace(offers[0], removed=True, contributors=("A", "B"), formats=("epub", "pdf"))
    written = [*offers[1:], removed,
               replace(offers[1], ean13=with_check_digit("978207036010"), tax_rate=None, publisher="",
                       formats=())]
    path = tmp_path / "update.xml"
    with open(path, "wb") as f:
        onix.write(f, written, None, "Lending hub", datetime(2026, 1, 5, tzinfo=UTC))
    assert validate(str(path)) == []
    for gln in (demo.DISTRIBUTOR, demo.DISTRIBUTOR2):
        assert validate(str(demo.ONIX_DIR / f"{gln}.xml")) == []
    broken = path.read_bytes().replace(b"<ProductForm>ED</ProductForm>", b"", 1)
    (tmp_path / "broken.xml").write_bytes(broken)
    assert validate(str(tmp_path / "broken.xml"))  # the check does fail on a record missing ProductForm


def test_the_tag_name_cache_stays_bounded_whatever_the_feed_invents() -> None:
    from lending.catalogue.onix import _C, _N, _NAMES_KEPT, _code, _local

    kept, codes = dict(_N), dict(_C)
    try:
        for i in range(_NAMES_KEPT + 100):
            assert _local(f"{{urn:x}}Tag{i}") == f"Tag{i}"
            assert _code(f"{{urn:y}}Tag{i}") == 0  # no element the reader takes
        assert _code("{urn:y}Quantity") == _code("Quantity") != 0  # any namespace, as _local
        assert len(_N) <= _NAMES_KEPT and len(_C) <= _NAMES_KEPT
    finally:  # the real names for the tests that follow
        _N.clear()
        _N.update(kept)
        _C.clear()
        _C.update(codes)


def test_text_that_xml_lets_through_but_no_field_takes_is_the_record_s_error() -> None:
    # XML 1.0 carries DEL and the C1 controls; the hub's one text check (lending.web) refuses them, as
    # every door does: the record is rejected naming the field, the next one is read.
    notices, rejected = read(message(product(title="<TitleText>Un&#x7f;titre</TitleText>"),
                                     product("9791000000022", ref="B")))
    assert [n.ean13 for n in notices] == ["9791000000022"]
    assert rejected == [Rejected("9791000000091", "title is invalid: control characters are not allowed")]


def test_what_the_reader_keeps_between_records_stays_bounded_whatever_the_feed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Terms, prices and amounts already read are kept for the records that repeat them: at most _KEPT
    of each, and none from long values (read all the same, never kept)."""
    monkeypatch.setattr(onix, "_KEPT", 20)
    for kept in (onix._terms_read, onix._prices_read, onix._short_numbers):
        kept.clear()  # what is kept only spares work: emptying it changes no record
    long_amount = "0" * 200 + "12.50"
    prices = [f"{10 + i}.{i % 100:02d}" for i in range(60)] + [long_amount]
    terms = BASIC_TERMS.replace("<Quantity>10</Quantity>", f"<Quantity>{'0' * 100}7</Quantity>")
    records = [product(with_check_digit(f"979100{i:06d}"), terms=terms if i % 2 else BASIC_TERMS,
                       prices=f"<Price><PriceType>04</PriceType><PriceAmount>{amount}</PriceAmount><Tax>"
                              f"<TaxRatePercent>5.5</TaxRatePercent></Tax><CurrencyCode>EUR</CurrencyCode></Price>")
               for i, amount in enumerate(prices)]
    notices, rejected = read(message(*records))
    assert rejected == [] and len(notices) == len(prices)
    assert [n.price_ttc for n in notices if isinstance(n, Offer)] == [
        (10 + i) * 100 + i % 100 for i in range(60)] + [1250]
    assert {n.terms.loans for n in notices if isinstance(n, Offer)} == {10, 7}
    for kept in (onix._terms_read, onix._prices_read, onix._short_numbers):
        assert 0 < len(kept) <= 20
    assert all(long_amount not in repr(key) for key in onix._prices_read)
    assert all("0" * 100 not in repr(key) for key in onix._terms_read)
