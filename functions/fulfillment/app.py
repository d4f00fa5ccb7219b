"""GET /fulfillment/{token}: a loan's signed, time-limited link serves its file (CONTRACT 3 link.url,
section 4) and records the download."""

from lending.downloads.door import fulfillment_handler

lambda_handler = fulfillment_handler()
