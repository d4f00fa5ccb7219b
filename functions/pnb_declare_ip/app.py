"""PNB declareIp over JSON: POST /v2/pnb-numerique/declareIp."""

from lending.pnb.json_door import json_handler

lambda_handler = json_handler("declareIp")
