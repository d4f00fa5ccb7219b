"""The DRM billing report's arithmetic, pure: months, lending systems, counts by licence and medium."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from lending.domain.licences import Pool
from lending.domain.loans import Loan
from lending.warehouse import billing

T = datetime(2026, 11, 3, tzinfo=UTC)


def loan(line: str, pool: Pool, system: str | None, coll: str = "3012345000031", n: int = 0) -> Loan:
    extra = {"borrowerId": f"b{n}", "transactionId": f"t{n}", **({"billDrmTo": system} if system else {})}
    return Loan(gln_coll=coll, loan_id=f"W{n}", order_line_id=line, ean13="9791000000015",
                gln_distributor="3010999000018", pool=pool, created_at=T, end_date=T, origin="warehouse",
                extra=extra)


@pytest.mark.parametrize(("month", "start", "end"), [
    ("2026-11", datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)),
    ("2026-12", datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
    ("2027-01", datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC)),
])
def test_month_range(month: str, start: datetime, end: datetime) -> None:
    assert billing.month_range(month) == (start, end)


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "202611", "", "2026-00", "26-11"])
def test_month_must_be_yyyy_mm(bad: str) -> None:
    with pytest.raises(ValueError):
        billing.month_range(bad)


def test_previous_month() -> None:
    assert billing.previous_month(datetime(2026, 12, 1, 3, tzinfo=UTC)) == "2026-11"
    assert billing.previous_month(datetime(2027, 1, 1, 3, tzinfo=UTC)) == "2026-12"


def test_counts_per_lending_system_licence_and_medium() -> None:
    loans = [loan("L1", Pool.OFFSITE, "SYSA", n=1), loan("L1", Pool.DOWNLOAD, "SYSA", n=2),
             loan("L1", Pool.DOWNLOAD, "SYSA", n=3), loan("L1", Pool.ONSITE, "SYSA", n=4),
             loan("L2", Pool.DOWNLOAD, "SYSB", n=5), loan("L2", Pool.DOWNLOAD, None, n=6)]
    files = billing.build(loans, "2026-11")
    assert set(files) == {"drm-billing/2026-11/systems/SYSA.csv", "drm-billing/2026-11/systems/SYSB.csv",
                          "drm-billing/2026-11/systems/3012345000031.csv", "drm-billing/2026-11/summary.csv"}
    rows = list(csv.reader(io.StringIO(files["drm-billing/2026-11/systems/SYSA.csv"])))
    assert rows[0] == list(billing.HEADER)
    assert [(r[2], r[6], r[7], r[8]) for r in rows[1:]] == [
        ("L1", "download", "", "2"), ("L1", "streaming", "on-site", "1"),
        ("L1", "streaming", "off-site", "1")]
    summary = list(csv.DictReader(io.StringIO(files["drm-billing/2026-11/summary.csv"])))
    assert [(r["lending_system"], r["loans"]) for r in summary] == [("3012345000031", "1"), ("SYSA", "4"),
                                                                     ("SYSB", "1")]


def test_no_lending_system_can_overwrite_the_summary() -> None:
    files = billing.build([loan("L1", Pool.DOWNLOAD, "summary", n=1)], "2026-11")
    assert set(files) == {"drm-billing/2026-11/systems/summary.csv", "drm-billing/2026-11/summary.csv"}
    assert files["drm-billing/2026-11/summary.csv"].startswith("lending_system,month,loans,file\n")


def test_cli_refuses_a_bad_month(capsys: pytest.CaptureFixture[str]) -> None:
    assert billing.main(["2026-13"]) == 2
    assert billing.main([]) == 2
    assert "YYYY-MM" in capsys.readouterr().err
