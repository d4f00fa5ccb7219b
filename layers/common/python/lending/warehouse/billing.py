"""The DRM billing report: per lending system (`bill_drm_to`, else the licence's collectivity) and
month, the loans its lending URLs gave, counted by licence and medium. CSV files in S3:

    drm-billing/<YYYY-MM>/systems/<lending system>.csv   one per lending system
    drm-billing/<YYYY-MM>/summary.csv                    every lending system, its loans and its file

(the systems in a folder of their own: no lending system's name can overwrite the summary)

A loan belongs to the month it was created in, whatever became of it (returned, expired): the DRM
fee is due when a file is issued. Run monthly (the scheduled function does the previous month) or
by hand: `make drm-report MONTH=2026-11`."""

from __future__ import annotations

import csv
import io
import os
import re
import sys
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from .. import aws
from ..domain.licences import Pool
from ..domain.loans import Loan
from ..domain.values import Value
from ..services import lending_systems

PREFIX = "drm-billing"
HEADER = ("lending_system", "month", "order_line_id", "ean13", "gln_coll", "gln_distributor", "medium",
          "localisation", "loans")
SUMMARY_HEADER = ("lending_system", "month", "loans", "file")
MEDIUM = {Pool.DOWNLOAD: ("download", ""), Pool.ONSITE: ("streaming", "on-site"),
          Pool.OFFSITE: ("streaming", "off-site")}
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class Row(Value):
    lending_system: str
    month: str
    order_line_id: str
    ean13: str
    gln_coll: str
    gln_distributor: str
    medium: str
    localisation: str
    loans: int

    def __init__(self, lending_system: str, month: str, order_line_id: str, ean13: str, gln_coll: str,
                 gln_distributor: str, medium: str, localisation: str, loans: int) -> None:
        self._init(lending_system, month, order_line_id, ean13, gln_coll, gln_distributor, medium, localisation, loans)


def month_range(month: str) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) in UTC; ValueError unless YYYY-MM."""
    m = _MONTH.match(month)
    if not m:
        raise ValueError(f"month must be YYYY-MM, got {month!r}")
    year, mon = int(m.group(1)), int(m.group(2))
    start = datetime(year, mon, 1, tzinfo=UTC)
    end = datetime(year + mon // 12, mon % 12 + 1, 1, tzinfo=UTC)
    return start, end


def previous_month(now: datetime) -> str:
    year, mon = (now.year - 1, 12) if now.month == 1 else (now.year, now.month - 1)
    return f"{year:04d}-{mon:02d}"


def lending_system(loan: Loan) -> str:
    return str(loan.extra.get("billDrmTo") or loan.gln_coll)


def count(loans: list[Loan], month: str) -> dict[str, list[Row]]:
    """Rows per lending system, sorted by licence then medium."""
    tally: Counter[tuple[str, str, str, str, str, Pool]] = Counter(
        (lending_system(x), x.order_line_id, x.ean13, x.gln_coll, x.gln_distributor, x.pool) for x in loans)
    out: dict[str, list[Row]] = {}
    rank = {pool: i for i, pool in enumerate(Pool)}  # download, on-site, off-site
    for system, line, ean, coll, dist, pool in sorted(tally, key=lambda k: (*k[:5], rank[k[5]])):
        n = tally[(system, line, ean, coll, dist, pool)]
        medium, place = MEDIUM[pool]
        out.setdefault(system, []).append(Row(system, month, line, ean, coll, dist, medium, place, n))
    return out


def to_csv(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def key(month: str, system: str) -> str:
    return f"{PREFIX}/{month}/systems/{system}.csv"


def summary_key(month: str) -> str:
    return f"{PREFIX}/{month}/summary.csv"


def build(loans: list[Loan], month: str) -> dict[str, str]:
    """S3 key -> CSV text: one file per lending system and the month's summary (always written, so an
    empty month is a report too, not a missing one)."""
    files: dict[str, str] = {}
    summary: list[tuple[Any, ...]] = []
    for system, rows in count(loans, month).items():
        files[key(month, system)] = to_csv(HEADER, [tuple(vars(r).values()) for r in rows])
        summary.append((system, month, sum(r.loans for r in rows), key(month, system)))
    files[summary_key(month)] = to_csv(SUMMARY_HEADER, summary)
    return files


def produce(month: str, bucket: str | None = None) -> dict[str, str]:
    """Write the month's report to the bucket; returns what was written (key -> CSV)."""
    start, end = month_range(month)
    files = build(lending_systems.warehouse_loans_created(start, end), month)
    s3 = aws.client("s3")
    for k, text in files.items():
        s3.put_object(Bucket=bucket or os.environ["BUCKET_NAME"], Key=k, Body=text.encode(),
                      ContentType="text/csv; charset=utf-8")
    return files


def resolve_names(stack: str) -> None:
    """TABLE_NAME / BUCKET_NAME when not given: the local stack's names when AWS_ENDPOINT_URL points
    at the emulator, else the deployed stack's resources (CloudFormation)."""
    if os.environ.get("TABLE_NAME") and os.environ.get("BUCKET_NAME"):
        return
    if os.environ.get("AWS_ENDPOINT_URL"):
        from ..local.emulator import LOCAL_ENV
        from ..local.resources import physical_name

        for k, v in LOCAL_ENV.items():
            os.environ.setdefault(k, v)
        os.environ.setdefault("TABLE_NAME", physical_name("Table"))
        os.environ.setdefault("BUCKET_NAME", physical_name("Bucket"))
        return
    cfn = aws.client("cloudformation")
    for env, logical in (("TABLE_NAME", "Table"), ("BUCKET_NAME", "Bucket")):
        if not os.environ.get(env):
            found = cfn.describe_stack_resource(StackName=stack, LogicalResourceId=logical)
            os.environ[env] = found["StackResourceDetail"]["PhysicalResourceId"]


def main(argv: list[str] | None = None) -> int:
    """`make drm-report MONTH=2026-11 [STACK=lending-hub]`: write the report and print it."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or not args[0]:
        print("usage: make drm-report MONTH=YYYY-MM [STACK=lending-hub]", file=sys.stderr)
        return 2
    try:
        month_range(args[0])
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2
    resolve_names(args[1] if len(args) > 1 and args[1] else "lending-hub")
    files = produce(args[0])
    bucket = os.environ["BUCKET_NAME"]
    for k, text in sorted(files.items()):
        print(f"== s3://{bucket}/{k}")
        print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
