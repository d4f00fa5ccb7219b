"""Where the FTP files live in the stack's bucket, and the tree each account sees (its jail).

Bucket keys:
- ftp/accounts/<gln>/O/<file>                 one account's offer/order files (full_pnb_*, diffusion_pnb_*)
- ftp/onix/<glnDistributor>/<file>            the distributor's full ONIX catalogue (full_onix_*) and its
                                              updates of the day (diffusion_onix_*)

What an account sees once logged in (the same mapping for AWS Transfer Family's logical directories and
for the local FTP server):
- /HUB/O/                      its own folder (the path PMB's scheduled task reads)
- /HUB/ONIX/<glnDistributor>/  the catalogue of every distributor it may order from (read-only, shared)
Nothing else exists for it: not the bucket's other keys, not another account's folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime

FTP_ROOT = "ftp/"
OFFERS_DIR = "/HUB/O"
ONIX_DIR = "/HUB/ONIX"
ONIX_PREFIX = "full_onix"
ONIX_UPDATE_PREFIX = "diffusion_onix"


def account_prefix(gln: str) -> str:
    return f"ftp/accounts/{gln}/O/"


def onix_prefix(gln_distributor: str) -> str:
    return f"ftp/onix/{gln_distributor}/"


def onix_full_name(gln_distributor: str, day: date) -> str:
    return f"{ONIX_PREFIX}_{gln_distributor}_{day:%Y%m%d}.xml"


def onix_update_name(gln_distributor: str, at: datetime) -> str:
    return f"{ONIX_UPDATE_PREFIX}_{gln_distributor}_{at:%Y%m%d_%H%M%S}.xml"


def mappings(gln: str, distributors: Iterable[str]) -> list[tuple[str, str]]:
    """(visible directory, bucket key prefix without its trailing slash) of one account."""
    out = [(OFFERS_DIR, account_prefix(gln).rstrip("/"))]
    out.extend((f"{ONIX_DIR}/{d}", onix_prefix(d).rstrip("/")) for d in sorted(set(distributors)))
    return out


def transfer_home_directory(bucket: str, entries: list[tuple[str, str]]) -> str:
    """AWS Transfer Family's HomeDirectoryDetails (a JSON string): LOGICAL entries, chrooted."""
    return json.dumps([{"Entry": entry, "Target": f"/{bucket}/{target}"} for entry, target in entries])
