"""Library API v1: GET /v1/loans.{json|xml}, the library's loans newest first, by page."""

from lending.v1 import actions
from lending.v1.door import handler

lambda_handler = handler(actions.list_loans, root="loans")
