"""PNB getOrders over REST: GET or POST /v2/pnb-numerique/json/getOrders (and without json/)."""

from lending.pnb.json_door import json_handler

lambda_handler = json_handler("getOrders")
