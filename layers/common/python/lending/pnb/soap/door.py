"""The PNB SOAP door: GET /v2/pnb-numerique/soap?wsdl (or ?xsd) describes it, POST answers it.

A POST is read (envelope.read), checked against pnb.xsd, decoded into the very body the JSON door
receives, answered by the same core (`operations.run`) and encoded back in the XSD's order. Only a body
that is not one readable PNB operation, or a fault of ours, becomes a SOAP Fault; everything else is a
PNB answer with its returnStatus, as over JSON."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from typing import Any

from lxml import etree

from ...domain.codes import Status
from ...observability import logger, observed, request_line
from ...services.context import Ctx, warm_up
from ...web import BadText, base_url, check_text, source_ip
from ..operations import OPERATIONS, new_request_id, refuse_text, run
from ..refusals import BAD_CREDENTIALS, INTERNAL_ERROR
from . import codec, envelope
from .schema import MODEL

_validating = threading.Lock()  # one XMLSchema, one error log: validations take turns (threaded local stack)


def _xml(status: int, payload: bytes, content_type: str = "text/xml; charset=utf-8",
         extra: dict[str, str] | None = None) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": content_type, **(extra or {})},
            "body": payload.decode("utf-8")}


def _body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    if len(body) > 2 * envelope.MAX_BODY:  # bounded before any decoding work
        raise envelope.NotSoap(f"The request body is too large (at most {envelope.MAX_BODY} bytes)")
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except ValueError:
            raise envelope.NotSoap("The request body is not valid base64") from None
    return str(body).encode("utf-8", "surrogatepass")  # a lone surrogate: bytes libxml2 refuses


def describe(event: dict[str, Any]) -> dict[str, Any]:
    """?xsd: the schema alone; anything else (?wsdl): the WSDL with the schema inline."""
    from . import wsdl  # only describing needs it: kept out of the cold start of every call

    query = {k.lower() for k in (event.get("queryStringParameters") or {})}
    cache = {"Cache-Control": "public, max-age=300"}
    if "xsd" in query:
        return _xml(200, MODEL.source, extra=cache)
    return _xml(200, wsdl.document(base_url(event)), extra=cache)


def _fault(version: str, code: str, request_id: str, status: str, message: str) -> dict[str, Any]:
    http, payload = envelope.fault(version, code, message, envelope.fault_detail(request_id, status, message))
    return _xml(http, payload, envelope.CONTENT_TYPES[version])


def call(event: dict[str, Any]) -> dict[str, Any]:
    try:
        version, payload = envelope.read(_body(event))
    except envelope.NotSoap as e:
        logger.info("pnb soap fault", extra={"fault": e.code})
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        version = e.version or envelope.version_of(headers.get("content-type"))
        return _fault(version, e.code, new_request_id(), Status.INVALID_ARGUMENTS.value, e.message)
    service = etree.QName(payload).localname
    request_type = MODEL.elements[service]
    with _validating:
        valid = MODEL.validator.validate(payload)
        problem = None if valid else MODEL.validator.error_log[0]
    if problem is not None:
        message = codec.explain(payload, problem, request_type)
        status = Status.INVALID_ARGUMENTS
        credentials = OPERATIONS[service].credentials
        if any(message.startswith(f"The parameter {name} ") for name in credentials):
            # A missing or malformed credential is a failed authentication, whichever door it came
            # through (CONTRACT 3): the same answer as the JSON door's, and the value never echoed.
            # `explain` names the element at fault (the missing one, or the one met where it may not
            # be), so this is a credential's own problem only: absent, invalid, given twice or out of its
            # place, all a malformed credential. Another field out of place or given twice before the
            # password is named itself and stays INVALID_ARGUMENTS.
            status, message = Status.AUTHENTICATION_ERROR, BAD_CREDENTIALS
        http, answer = 200, {"requestId": new_request_id(), "returnStatus": status.value, "returnMessage": message}
    else:
        try:
            body = codec.decode(payload, request_type)
            check_text(body)  # the same text check as every door's (XML 1.0 lets DEL and U+0080-9F through)
        except BadText as t:
            http, answer = refuse_text(service, t)
        except codec.Malformed as m:
            http, answer = refuse_text(service, BadText(m.field, "not a value of its type"))
        else:
            http, answer = run(service, body, Ctx(base_url=base_url(event), source_ip=source_ip(event)))
    request_line("pnb soap", operation=service, returnStatus=answer["returnStatus"], requestId=answer["requestId"])
    if http >= 500:  # our fault, not the caller's: a Server fault that still names the request
        return _fault(version, "receiver", answer["requestId"], answer["returnStatus"],
                      answer["returnMessage"])
    out = codec.encode(f"{service}Response", answer, MODEL.elements[f"{service}Response"])
    return _xml(200, envelope.answer(version, out), envelope.CONTENT_TYPES[version])


def soap_handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    warm_up()  # clients built once per container, at init

    @observed
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        method = event.get("requestContext", {}).get("http", {}).get("method", "POST")
        try:
            return describe(event) if method in ("GET", "HEAD") else call(event)
        except Exception:
            request_id = new_request_id()
            logger.exception("pnb soap door failed", extra={"requestId": request_id})
            headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
            version = envelope.version_of(headers.get("content-type"))
            return _fault(version, "receiver", request_id, Status.ERROR.value, INTERNAL_ERROR)

    return lambda_handler
