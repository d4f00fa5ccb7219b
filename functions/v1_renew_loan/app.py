"""Library API v1: PUT /v1/loans/{loan_id} with expires_at, renewal on the patron's behalf."""

from lending.v1 import actions
from lending.v1.door import handler

lambda_handler = handler(actions.renew_loan, root="loan")
