"""PNB getLoanStatus over JSON: POST /v2/pnb-numerique/getLoanStatus."""

from lending.pnb.json_door import json_handler

lambda_handler = json_handler("getLoanStatus")
