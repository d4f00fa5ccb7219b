"""PNB cancelOrder over JSON: POST /v2/pnb-numerique/cancelOrder."""

from lending.pnb.json_door import json_handler

lambda_handler = json_handler("cancelOrder")
