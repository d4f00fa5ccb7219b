"""PNB REST: /v2/pnb-numerique/[json/]{service} for a service the hub does not offer (NOT_IMPLEMENTED)."""

from lending.pnb.json_door import unknown_service_handler

lambda_handler = unknown_service_handler
