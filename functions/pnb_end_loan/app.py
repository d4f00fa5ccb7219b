"""PNB endLoan over JSON: POST /v2/pnb-numerique/endLoan."""

from lending.pnb.json_door import json_handler

lambda_handler = json_handler("endLoan")
