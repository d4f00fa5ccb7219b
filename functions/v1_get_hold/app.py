"""Library API v1: GET /v1/holds/{hold_id}, one hold: its place in the queue, its expected wait."""

from lending.v1 import holds
from lending.v1.door import handler

lambda_handler = handler(holds.get_hold, root="hold")
