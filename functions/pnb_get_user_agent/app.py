"""PNB getUserAgent over JSON: POST /v2/pnb-numerique/getUserAgent (reading applications per DRM)."""

from lending.pnb.json_door import json_handler

lambda_handler = json_handler("getUserAgent")
