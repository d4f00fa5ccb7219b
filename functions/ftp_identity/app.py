"""AWS Transfer Family identity provider: an FTP/FTPS/SFTP login checked against the hub's accounts."""

from typing import Any

from lending.files.transfer import answer
from lending.observability import count, logger, observed
from lending.services.context import warm_up

warm_up()  # clients built once per container, at init


@observed
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    out = answer(event)
    count(f"ftp.login.{'ok' if out else 'refused'}")
    # The source address and protocol, never the password.
    logger.info("ftp login", extra={"ok": bool(out), "protocol": event.get("protocol"),
                                    "sourceIp": event.get("sourceIp")})
    return out
