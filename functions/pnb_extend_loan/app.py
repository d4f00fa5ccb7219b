"""PNB extendLoan over REST: GET or POST /v2/pnb-numerique/json/extendLoan (and without json/).

Renewal: `date` is the loan's new end."""

from lending.pnb.json_door import json_handler

lambda_handler = json_handler("extendLoan")
