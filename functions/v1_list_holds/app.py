"""Library API v1: GET /v1/holds.{json|xml}, the library's (or a patron's) holds, newest first."""

from lending.v1 import holds
from lending.v1.door import handler

lambda_handler = handler(holds.list_holds, root="holds")
