"""OPDS 2 feed of the library's catalogue: GET /v1/opds.json (publications, facets, borrow links)."""

from lending.harvest import opds
from lending.harvest.door import handler

lambda_handler = handler(opds.feed, root="feed")
