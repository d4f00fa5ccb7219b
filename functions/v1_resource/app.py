"""Library API v1 catalogue: GET /v1/resources/{id}.{json|xml}, one title the library holds."""

from lending.harvest import cantook
from lending.harvest.door import handler

lambda_handler = handler(cantook.get_resource, root="resource")
