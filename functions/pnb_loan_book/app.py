"""PNB loanBook over JSON: POST /v2/pnb-numerique/loanBook."""

from lending.pnb.json_door import json_handler

lambda_handler = json_handler("loanBook")
