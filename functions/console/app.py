"""The library console: every /console page (server-rendered HTML)."""

from lending.console.app import handler

lambda_handler = handler()
