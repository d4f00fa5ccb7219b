"""PNB extendLoan over JSON: POST /v2/pnb-numerique/extendLoan (renewal: `date` is the new end)."""

from lending.pnb.json_door import json_handler

lambda_handler = json_handler("extendLoan")
