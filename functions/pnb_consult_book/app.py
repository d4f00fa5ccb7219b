"""PNB consultBook over JSON: POST /v2/pnb-numerique/consultBook."""

from lending.pnb.json_door import json_handler

lambda_handler = json_handler("consultBook")
