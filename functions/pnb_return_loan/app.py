"""PNB returnLoan over JSON: POST /v2/pnb-numerique/returnLoan (the collectivity ends a loan early)."""

from lending.pnb.json_door import json_handler

lambda_handler = json_handler("returnLoan")
