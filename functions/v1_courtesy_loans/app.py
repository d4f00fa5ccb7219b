"""Library API v1: POST /v1/members/{member_id}/courtesy_loans, one loan past the limits."""

from lending.v1 import actions
from lending.v1.door import handler

lambda_handler = handler(actions.grant_courtesy, root="member")
