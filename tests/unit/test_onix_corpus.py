"""The ONIX reader's whole behaviour over a varied generated corpus, pinned: what it made of these records
before its inner loop was rewritten for speed (commit 1530ecc, `lending.catalogue.onix` as it was), every
Offer, Removal and rejection reason included. A change of the reader that changes any of them fails here.

The corpus: 3,000 products in 60 messages, half with the ONIX namespace and half without, header defaults
or none; each optional part present or absent, repeated, or out of place (TitleType after its
TitleElement, a Collection's title and contributor, a RelatedProduct's identifier, a foreign supplier),
with common and malformed values (amounts above the bounds or in fractions of a cent, "²", empty leaves),
a constraint nested in another's limit, a title in another namespace, with a PI, CDATA or a comment.
Half the messages draw mostly the usual values (most records become offers), half draw widely (most are
rejected, each for its own reason). A deliberate change of what the reader makes: look at the difference
(`outcome()` against the reader before it), then set both EXPECTED values from `outcome()`."""

from __future__ import annotations

import hashlib
import io
import random
from collections import Counter

from lending.catalogue import onix
from lending.domain.identifiers import with_check_digit

GLN = "3010999000018"
OTHER = "3010999000025"
USUAL_TERMS = (
    "<EpubUsageConstraint><EpubUsageType>06</EpubUsageType><EpubUsageStatus>02</EpubUsageStatus>"
    "<EpubUsageLimit><Quantity>10</Quantity><EpubUsageUnit>10</EpubUsageUnit></EpubUsageLimit>"
    "<EpubUsageLimit><Quantity>3</Quantity><EpubUsageUnit>13</EpubUsageUnit></EpubUsageLimit>"
    "</EpubUsageConstraint><EpubUsageConstraint><EpubUsageType>07</EpubUsageType>"
    "<EpubUsageStatus>02</EpubUsageStatus><EpubUsageLimit><Quantity>365</Quantity>"
    "<EpubUsageUnit>09</EpubUsageUnit></EpubUsageLimit></EpubUsageConstraint>"
)

# What the reader at 1530ecc made of the corpus: counts, and a digest of every notice and rejection.
EXPECTED_COUNTS = {"Offer": 937, "Removal": 60, "Rejected": 2003}
EXPECTED_DIGEST = "810c9081d9f62674111e132a27faf250df5bdfc6275032464bf8dd99919d3511"


class Corpus:
    """Seeded: the same records on every run. `usual` is the chance of each choice taking its first
    (common, valid) option."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.usual = 0.75

    def pick(self, *options: str) -> str:
        return options[0] if self.r.random() < self.usual else self.r.choice(options)

    def count(self, *options: int) -> int:
        return options[0] if self.r.random() < self.usual else self.r.choice(options)

    def maybe(self, text: str, chance: float) -> str:
        return text if self.r.random() < chance else ""

    def product(self, i: int) -> str:
        pick, count, maybe = self.pick, self.count, self.maybe
        ean = with_check_digit(f"979{self.r.randrange(10**9):09d}")
        parts = [maybe(leaf("RecordReference", f"ref{i}"), 0.9),
                 maybe(leaf("NotificationType", pick("03", "05", "01", "09", "")), 0.95)]
        for _ in range(count(1, 0, 1, 1, 2, 3)):
            parts.append("<ProductIdentifier>" + leaf("ProductIDType", pick("15", "03", "01"))
                         + leaf("IDValue", pick(ean, ean, "9791000000091", "bad", ean[:-1] + "0"))
                         + "</ProductIdentifier>")
        desc = [leaf("ProductComposition", "00"), leaf("ProductForm", "ED")]
        desc += [leaf("ProductFormDetail", pick("E101", "E107", "E999", "E108")) for _ in range(count(0, 1, 2))]
        for _ in range(count(0, 0, 1, 2, 4, 6)):
            limits = "".join(
                "<EpubUsageLimit>" + maybe(leaf("Quantity", pick("1", "10", "0", "21", "x", "", " 5 ", "²",
                                                                 "99999999999", "3650")), 0.9)
                + maybe(leaf("EpubUsageUnit", pick("10", "09", "07", "13", "05")), 0.9) + "</EpubUsageLimit>"
                for _ in range(self.r.randrange(0, 3)))
            desc.append("<EpubUsageConstraint>"
                        + maybe(leaf("EpubUsageType", pick("06", "07", "09", "10", "01", "02")), 0.95)
                        + maybe(leaf("EpubUsageStatus", pick("02", "02", "01", "03")), 0.9)
                        + limits + "</EpubUsageConstraint>")
        if self.r.random() < 0.9:
            desc.append(USUAL_TERMS)
        if self.r.random() < 0.05:  # a constraint inside another's limit, a limit's value one level down
            desc.append("<EpubUsageConstraint><EpubUsageType>06</EpubUsageType><EpubUsageStatus>02"
                        "</EpubUsageStatus><EpubUsageLimit><EpubUsageConstraint><EpubUsageType>09</EpubUsageType>"
                        "<EpubUsageStatus>02</EpubUsageStatus></EpubUsageConstraint><Quantity>5</Quantity>"
                        "<EpubUsageUnit>10</EpubUsageUnit></EpubUsageLimit><EpubUsageLimit><X><Quantity>7</Quantity>"
                        "</X><EpubUsageUnit>09</EpubUsageUnit></EpubUsageLimit></EpubUsageConstraint>")
        if self.r.random() < 0.1:
            self.r.shuffle(desc)
        for _ in range(count(1, 0, 1, 2)):
            title_type = maybe(leaf("TitleType", pick("01", "01", "02")), 0.9)
            elements = "".join(
                "<TitleElement>" + leaf("TitleElementLevel", "01")
                + pick(leaf("TitleText", pick("Un titre", "", " Spaced ", "Bad&#x7f;", "L&apos;&#xe9;t&#xe9;",
                                              "Avant<?pi x?>apres", "<![CDATA[Dans <CDATA>]]>", "A<!-- c -->B")),
                       '<x:TitleText xmlns:x="urn:x">Ailleurs</x:TitleText>',
                       leaf("TitlePrefix", "Le") + leaf("TitleWithoutPrefix", "Livre"),
                       leaf("TitleWithoutPrefix", "Seul"), "")
                + "</TitleElement>" for _ in range(count(1, 0, 1, 2)))
            desc.append(f"<TitleDetail>{title_type}{elements}</TitleDetail>" if self.r.random() < 0.9
                        else f"<TitleDetail>{elements}{title_type}</TitleDetail>")
        for _ in range(count(0, 1, 2, 3)):
            name = pick(leaf("PersonName", "Ann Author"), leaf("NamesBeforeKey", "Anne") + leaf("KeyNames", "K"),
                        leaf("KeyNames", "Solo"), leaf("CorporateName", "Corp"),
                        leaf("PersonNameInverted", "Doe, J"), "")
            desc.append("<Contributor>" + maybe(leaf("SequenceNumber", pick("1", "2", "3", "x", "")), 0.8)
                        + leaf("ContributorRole", "A01") + name + "</Contributor>")
        if self.r.random() < 0.1:
            desc.append("<Collection><TitleDetail><TitleType>01</TitleType><TitleElement><TitleText>Coll"
                        "</TitleText></TitleElement></TitleDetail><Contributor><PersonName>Other</PersonName>"
                        "</Contributor></Collection>")
        parts.append("<DescriptiveDetail>" + "".join(desc) + "</DescriptiveDetail>")
        if self.r.random() < 0.8:
            parts.append("<PublishingDetail>" + "".join(
                "<Publisher>" + maybe(leaf("PublishingRole", pick("01", "02")), 0.9)
                + maybe(leaf("PublisherName", pick("Gallimard", "Co")), 0.9) + "</Publisher>"
                for _ in range(count(1, 1, 2))) + "</PublishingDetail>")
        if self.r.random() < 0.1:
            parts.append("<RelatedMaterial><RelatedProduct><ProductIdentifier><ProductIDType>15</ProductIDType>"
                         "<IDValue>9791000000022</IDValue></ProductIdentifier></RelatedProduct></RelatedMaterial>")
        supplies = [self.supply() for _ in range(count(1, 0, 1, 1, 2))]
        if supplies or self.r.random() < 0.5:
            parts.append("<ProductSupply>" + "".join(supplies) + "</ProductSupply>")
        return "<Product>" + "\n".join(parts) + "</Product>"

    def supply(self) -> str:
        pick, count, maybe = self.pick, self.count, self.maybe
        supplier = pick(
            "<Supplier><SupplierRole>03</SupplierRole><SupplierIdentifier><SupplierIDType>"
            + pick("06", "06", "01") + "</SupplierIDType><IDValue>" + pick(GLN, GLN, OTHER)
            + "</IDValue></SupplierIdentifier></Supplier>",
            "<Supplier><SupplierName>X</SupplierName></Supplier>", "")
        prices = []
        for _ in range(count(1, 0, 1, 2)):
            tax = pick("<Tax><TaxType>01</TaxType>"
                       + maybe(leaf("TaxRatePercent", pick("5.5", "20", "2.1", "5.555", "x", "1000")), 0.8)
                       + maybe(leaf("TaxableAmount", self.amount()), 0.6) + "</Tax>", "")
            prices.append("<Price>" + maybe(leaf("PriceType", pick("04", "02", "01", "03", "42")), 0.9)
                          + maybe(leaf("PriceAmount", self.amount()), 0.95) + tax
                          + maybe(leaf("CurrencyCode", pick("EUR", "EUR", "CHF", "eur", "EURO")), 0.9) + "</Price>")
        return ("<SupplyDetail>" + supplier
                + maybe(leaf("ProductAvailability", pick("20", "21", "40", "x", "2")), 0.9)
                + "".join(prices) + "</SupplyDetail>")

    def amount(self) -> str:
        return self.pick("5.00", "12.99", "24", "0.5", "1.234", "abc", "", "10000000.01", "7.", ".5", "99999999",
                         "0012.30", "10000000.00")

    def message(self, size: int) -> bytes:
        self.usual = self.r.choice((0.75, 0.97))
        products = "".join(self.product(i) for i in range(size))
        ns = ' xmlns="http://ns.editeur.org/onix/3.0/reference"' if self.r.random() < 0.5 else ""
        header = self.r.choice(("", "<DefaultCurrencyCode>EUR</DefaultCurrencyCode>",
                                "<DefaultPriceType>04</DefaultPriceType>"))
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<ONIXMessage release="3.0"{ns}><Header><Sender>'
                f"<SenderName>D</SenderName></Sender>{header}</Header>{products}</ONIXMessage>").encode()


def leaf(name: str, value: str) -> str:
    return f"<{name}>{value}</{name}>"


def outcome() -> tuple[dict[str, int], str]:
    """(how many of each, the digest of every notice and rejection in file order)."""
    corpus = Corpus(16)
    counts: Counter[str] = Counter()
    digest = hashlib.sha256()
    for _ in range(60):
        rejected: list[onix.Rejected] = []
        for notice in onix.read(io.BytesIO(corpus.message(50)), GLN, rejected.append):
            counts[type(notice).__name__] += 1
            digest.update(repr(notice).encode() + b"\n")
        counts["Rejected"] += len(rejected)
        for r in rejected:
            digest.update(repr(r).encode() + b"\n")
    return {k: counts[k] for k in EXPECTED_COUNTS}, digest.hexdigest()


def test_the_reader_makes_of_a_varied_corpus_exactly_what_it_made_before() -> None:
    counts, digest = outcome()
    assert counts == EXPECTED_COUNTS
    assert digest == EXPECTED_DIGEST
