"""PNB getEndedLoans over JSON: POST /v2/pnb-numerique/getEndedLoans."""

from lending.pnb.json_door import json_handler

lambda_handler = json_handler("getEndedLoans")
