"""Library API v1 catalogue: GET /v1/resources.{json|xml}, the titles the library holds, paged by headers."""

from lending.harvest import cantook
from lending.harvest.door import handler

lambda_handler = handler(cantook.list_resources, root="resources")
