"""PNB getOffersForDistributor over REST: GET or POST /v2/pnb-numerique/json/getOffersForDistributor."""

from lending.pnb.json_door import json_handler

lambda_handler = json_handler("getOffersForDistributor")
