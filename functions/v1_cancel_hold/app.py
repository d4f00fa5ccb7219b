"""Library API v1: DELETE /v1/holds/{hold_id}, a hold cancelled (a reserved place to the next in line)."""

from lending.v1 import actions
from lending.v1.door import handler

lambda_handler = handler(actions.cancel_hold, root="hold")
