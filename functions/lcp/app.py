"""Readium LCP: licences, licence status documents (register, return, renew), protected publications."""

from lending.lsd.door import lambda_handler

__all__ = ["lambda_handler"]
