"""The demo parties and catalogue of CONTRACT section 2, written into whichever store is installed (the
fake's `table.put`, or moto's). Accounts carry no password: use cases never check one (the doors do)."""

from __future__ import annotations

from lending.domain.accounts import Account, Role
from lending.domain.offers import LicenceTerms, Offer
from lending.local import demo
from lending.store import accounts, offers


def catalogue() -> list[Offer]:
    return [Offer(ean13=ean, gln_distributor=dist, title=title, availability=availability, price_ttc=ttc,
                  price_ht=ht, terms=LicenceTerms(loans=nta, downloads=dl, onsite_streams=on, offsite_streams=off,
                                                  licence_days=days, max_loan_days=max_days))
            for ean, dist, availability, ttc, ht, nta, dl, on, off, days, max_days, title in demo.CATALOGUE]


def parties() -> list[Account]:
    return [
        Account(gln=demo.RESELLER, role=Role.RESELLER, name="Librairie Demo"),
        Account(gln=demo.COLL, role=Role.COLLECTIVITY, name="Reseau des mediatheques Demo", members=(demo.LIBRARY,),
                callback_secret=demo.COLL_CALLBACK_SECRET, settings=dict(demo.V1_SETTINGS)),
        Account(gln=demo.LIBRARY, role=Role.LIBRARY, name="Mediatheque centrale", parent=demo.COLL),
        Account(gln=demo.COLL2, role=Role.COLLECTIVITY, name="Bibliotheques Deux", settings=dict(demo.V1_SETTINGS)),
        Account(gln=demo.CONTRACTOR, role=Role.CONTRACTOR, name="Prestataire SIGB"),
        Account(gln=demo.DISTRIBUTOR, role=Role.DISTRIBUTOR, name="Diffuseur Demo"),
        Account(gln=demo.DISTRIBUTOR2, role=Role.DISTRIBUTOR, name="Diffuseur Deux"),
    ]


def load() -> None:
    for account in parties():
        accounts.save(account)
    offers.save_many(catalogue())
