"""PNB getOffersForDistributor over JSON: POST /v2/pnb-numerique/getOffersForDistributor."""

from lending.pnb.json_door import json_handler

lambda_handler = json_handler("getOffersForDistributor")
