"""The patron space: /sign_in and every /patron page, the reader and its signed resources."""

from lending.patron.app import handler

lambda_handler = handler()
