"""Library API v1: POST /v1/media/{medium_id}/loans.{json|xml}, a loan for a patron."""

from lending.v1 import actions
from lending.v1.door import handler

lambda_handler = handler(actions.create_loan, root="loan")
