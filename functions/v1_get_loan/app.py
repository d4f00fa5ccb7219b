"""Library API v1: GET /v1/loans/{loan_id}, the fulfillment document of an active loan."""

from lending.v1 import actions
from lending.v1.door import handler

lambda_handler = handler(actions.get_loan, root="loan")
