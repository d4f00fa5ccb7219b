"""Warehouse lending URL: POST {loanUrl} = /warehouse/licences/{orderLineId}/{token}/loans (CONTRACT 5)."""

from lending.warehouse.handlers import lend_handler

lambda_handler = lend_handler()
