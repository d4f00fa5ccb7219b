"""PNB sendOrder over JSON: POST /v2/pnb-numerique/sendOrder."""

from lending.pnb.json_door import json_handler

lambda_handler = json_handler("sendOrder")
