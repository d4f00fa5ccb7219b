"""Logger, metrics and tracer shared by every function (Powertools). No personal data in logs."""

from aws_lambda_powertools import Logger

logger = Logger(service="lending-hub")
