"""PNB getOffers over JSON: POST /v2/pnb-numerique/getOffers."""

from lending.pnb.json_door import json_handler

lambda_handler = json_handler("getOffers")
