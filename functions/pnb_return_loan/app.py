"""PNB returnLoan over REST: GET or POST /v2/pnb-numerique/json/returnLoan (and without json/).

The collectivity ends its patron's loan early."""

from lending.pnb.json_door import json_handler

lambda_handler = json_handler("returnLoan")
