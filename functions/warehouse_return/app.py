"""Warehouse early return through the fulfillment link: DELETE /warehouse/loans/{token}
(or POST /warehouse/loans/{token}/return); the lending system's notify_url is told."""

from lending.warehouse.handlers import return_handler

lambda_handler = return_handler()
