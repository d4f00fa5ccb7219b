"""The PMB-shaped files, pure: names PMB's listing sorts and dates, the element paths its parser reads,
and the shapes its XML-to-array conversion gets wrong unless the file avoids them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lending.domain.licences import Licence
from lending.domain.offers import LicenceTerms, Offer
from lending.files import pmb
from tests.pmb_reader import files_to_process, read_file, simplexml

NOW = datetime(2026, 3, 10, 9, 30, 5, tzinfo=UTC)
TERMS = LicenceTerms(loans=30, downloads=2, onsite_streams=1, offsite_streams=0, licence_days=365, max_loan_days=21)


def licence(line_id: str, ean13: str = "9791000000015") -> Licence:
    return Licence.new(order_line_id=line_id, gln_coll="3012345000031", gln_reseller="3012345000017",
                       order_id="ORDER1", ean13=ean13, gln_distributor="3010999000018", terms=TERMS,
                       dmd_date=NOW - timedelta(days=2))


def offer(ean13: str = "9791000000015", title: str = "Un titre") -> Offer:
    return Offer(ean13=ean13, gln_distributor="3010999000018", title=title, terms=TERMS, price_ttc=1000,
                 price_ht=948)


def doc(holdings: list[pmb.Holding], offers: dict[tuple[str, str], Offer], loans: list[tuple[str, str]] | None
        ) -> bytes:
    return pmb.document(kind="full", gln="3012345000031", generated_at=NOW, holdings=holdings, offers=offers,
                        loans=loans)


def test_names_sort_by_time_and_carry_the_day_pmb_reads() -> None:
    full = pmb.full_name("3012345000031", NOW.date())
    update = pmb.update_name("3012345000031", NOW)
    assert (full, update) == ("full_pnb_3012345000031_20260310.xml", "diffusion_pnb_3012345000031_20260310_093005.xml")
    assert pmb.name_day(full) == pmb.name_day(update) == "20260310"
    later = pmb.update_name("3012345000031", NOW + timedelta(seconds=1))
    assert sorted([later, update], reverse=True)[0] == later
    fulls = [pmb.full_name("3012345000031", (NOW - timedelta(days=d)).date()) for d in (1, 2)]
    updates = [update, later, pmb.update_name("3012345000031", NOW - timedelta(days=1, hours=1))]
    assert files_to_process(fulls, updates, full_sync=True) == [fulls[0], update, later]
    assert files_to_process(fulls, updates, full_sync=False) == [later]


def test_terms_and_notice_by_pmb_paths() -> None:
    lic = licence("1" * 24)
    read = read_file(doc([pmb.Holding(lic, "REF1")], {(lic.ean13, lic.gln_distributor): offer()}, []))
    (line,) = read["lines"]
    assert line["orderDate"] == "2026-03-08T09:30:05Z" and line["offerValidity"] == ("365", "DAY")
    assert (line["nbLoans"], line["loanMaxDuration"], line["loanNbSimultaneousUsers"]) == ("30", ("21", "DAY"), "2")
    assert (line["consultNbSimultaneousUsersInSitu"], line["consultNbSimultaneousUsersExSitu"]) == ("1", "0")
    assert line["title"] == "Un titre" and line["ean"] == "9791000000015"
    assert simplexml(line["product"])["NotificationType"] == "03"  # PMB's cut is a well-formed Product
    assert not read["has_loan_list"] and read["running"] == set()  # no loan: no list, PMB keeps its own


def test_many_lines_offers_and_loans() -> None:
    a, b, c = licence("1" * 24), licence("2" * 24), licence("3" * 24, ean13="9791000000022")
    offers = {(x.ean13, x.gln_distributor): offer(x.ean13) for x in (a, c)}
    loans = [(a.order_line_id, "L1"), (c.order_line_id, "L2"), (a.order_line_id, "L1")]
    content = doc([pmb.Holding(x) for x in (a, b, c)], offers, loans)
    read = read_file(content)
    assert sorted(x["orderLineId"] for x in read["lines"]) == ["1" * 24, "2" * 24, "3" * 24]
    assert read["running"] == {"L1", "L2"} and content.count(b"<loanId>L1</loanId>") == 1


def test_one_loan_is_written_twice_so_pmb_walks_a_list() -> None:
    lic = licence("1" * 24)
    content = doc([pmb.Holding(lic)], {}, [(lic.order_line_id, "ONLY")])
    assert read_file(content)["running"] == {"ONLY"} and content.count(b"<loanId>ONLY</loanId>") == 2
    single = simplexml(content)["offerLoanList"]
    assert isinstance(single["offerLine"], list)


def test_a_line_whose_offer_is_gone_still_has_a_notice_and_odd_text_stays_text() -> None:
    lic = licence("1" * 24)
    (line,) = read_file(doc([pmb.Holding(lic)], {}, None))["lines"]
    assert line["ean"] == "9791000000015" and line["product"].startswith("<Product>")
    odd = offer(title="A ]]> B & <C>")
    (line,) = read_file(doc([pmb.Holding(lic)], {(lic.ean13, lic.gln_distributor): odd}, None))["lines"]
    assert line["title"] == "A ]]> B & <C>"
