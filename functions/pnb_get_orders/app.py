"""PNB getOrders over JSON: POST /v2/pnb-numerique/getOrders."""

from lending.pnb.json_door import json_handler

lambda_handler = json_handler("getOrders")
