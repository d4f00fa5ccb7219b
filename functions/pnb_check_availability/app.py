"""PNB checkAvailability over JSON: POST /v2/pnb-numerique/checkAvailability."""

from lending.pnb.json_door import json_handler

lambda_handler = json_handler("checkAvailability")
