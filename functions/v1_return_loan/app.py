"""Library API v1: DELETE /v1/loans/{loan_id}, early return on the patron's behalf."""

from lending.v1 import actions
from lending.v1.door import handler

lambda_handler = handler(actions.return_loan, root="loan")
