"""Library API v1: DELETE /v1/holds/{hold_id}, a hold cancelled (a reserved place to the next in line)."""

from lending.v1 import holds
from lending.v1.door import handler

lambda_handler = handler(holds.cancel_hold, root="hold")
