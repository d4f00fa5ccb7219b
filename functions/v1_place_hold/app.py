"""Library API v1: POST /v1/media/{medium_id}/holds.{json|xml}, a patron joins a title's queue."""

from lending.v1 import holds
from lending.v1.door import handler

lambda_handler = handler(holds.place_hold, root="hold")
