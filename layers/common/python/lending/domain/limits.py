"""Limits and marks that both the rules and the doors' request schemas read: constants alone, so that a
door's schemas (pnb/requests.py, v1/requests.py) and its refusal table load none of the rules (the
modules that own them re-export them: domain.offers, domain.loans)."""

# Prices in cents and tax rates in hundredths of a percent, as the hub's requests accept them: an offer
# the catalogue takes can always be ordered at its own price, and its numbers always stored.
MAX_PRICE_CENTS = 10**9
MAX_TAX_RATE = 99_999
REMOVED = "removed"  # an offer its distributor removed (ONIX notification type 05)
# A reader passphrase's and its hint's limits, as every door checks them (the hint is lcp.licence's).
LCP_PASSPHRASE_MAX = 256
LCP_HINT_MAX = 200
