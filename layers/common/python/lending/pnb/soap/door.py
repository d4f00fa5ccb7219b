"""The PNB SOAP door: GET /v2/pnb-numerique/soap?wsdl (or ?xsd) describes it, POST answers it.

A POST is read (envelope.read), checked against pnb.xsd, decoded into the very body the JSON door
receives, answered by the same core (`operations.run`) and encoded back in the XSD's order. Only a body
that is not one readable PNB operation, or a fault of ours, becomes a SOAP Fault; everything else is a
PNB answer with its returnStatus, as over JSON."""

from __future__ import annotations

import threading

from lxml import etree

from ...domain.codes import Status
from ...observability import logger, request_line
from ...services.context import Ctx, warm_up
from ...web import Answer, BadBody, BadText, Door, Handler, Request, check_text
from ..operations import OPERATIONS, new_request_id, refuse_text, run
from ..refusals import BAD_CREDENTIALS, INTERNAL_ERROR
from . import codec, envelope
from .schema import MODEL

_validating = threading.Lock()  # one XMLSchema, one error log: validations take turns (threaded local stack)


def _xml(status: int, payload: bytes, content_type: str = "text/xml; charset=utf-8",
         extra: dict[str, str] | None = None) -> Answer:
    return Answer(status, payload.decode("utf-8"), {"Content-Type": content_type, **(extra or {})})


def _body(req: Request) -> bytes:
    """The request's bytes (a lone surrogate in an event's text stays bytes libxml2 refuses)."""
    try:
        return req.body(envelope.MAX_BODY)
    except BadBody as e:
        if "large" in str(e):
            raise envelope.NotSoap(f"The request body is too large (at most {envelope.MAX_BODY} bytes)") from None
        raise envelope.NotSoap("The request body is not valid base64") from None


def describe(req: Request) -> Answer:
    """?xsd: the schema alone; anything else (?wsdl): the WSDL with the schema inline."""
    from . import wsdl  # only describing needs it: kept out of the cold start of every call

    query = {k.lower() for k in req.query}
    cache = {"Cache-Control": "public, max-age=300"}
    if "xsd" in query:
        return _xml(200, MODEL.source, extra=cache)
    return _xml(200, wsdl.document(req.base_url), extra=cache)


def _fault(version: str, code: str, request_id: str, status: str, message: str) -> Answer:
    http, payload = envelope.fault(version, code, message, envelope.fault_detail(request_id, status, message))
    return _xml(http, payload, envelope.CONTENT_TYPES[version])


def _not_soap(req: Request, e: envelope.NotSoap) -> Answer:
    """A body that is not one readable PNB operation: a Fault of the sender, in the envelope's version
    (or, when it could not tell, the Content-Type's)."""
    logger.info("pnb soap fault", extra={"fault": e.code})
    version = e.version or envelope.version_of(req.headers.get("content-type"))
    return _fault(version, e.code, new_request_id(), Status.INVALID_ARGUMENTS.value, e.message)


def _server_fault(req: Request, request_id: str) -> Answer:
    """A fault of ours: a Server fault that names the request."""
    version = envelope.version_of(req.headers.get("content-type"))
    return _fault(version, "receiver", request_id, Status.ERROR.value, INTERNAL_ERROR)


DOOR = Door("pnb soap", _server_fault, errors={envelope.NotSoap: _not_soap})


def call(req: Request) -> Answer:
    version, payload = envelope.read(_body(req))
    service = etree.QName(payload).localname
    request_type = MODEL.elements[service]
    with _validating:  # libxml2 says yes or no (~4 us); only a no is explained, by xmlschema (codec.explain)
        valid = MODEL.validator.validate(payload)
    if not valid:
        field, message = codec.explain(payload, request_type)
        status = Status.INVALID_ARGUMENTS
        if field in OPERATIONS[service].credentials:
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
            http, answer = run(service, body, Ctx(base_url=req.base_url, source_ip=req.source_ip))
    request_line("pnb soap", operation=service, returnStatus=answer["returnStatus"], requestId=answer["requestId"])
    if http >= 500:  # our fault, not the caller's: a Server fault that still names the request
        return _fault(version, "receiver", answer["requestId"], answer["returnStatus"],
                      answer["returnMessage"])
    out = codec.encode(f"{service}Response", answer, MODEL.elements[f"{service}Response"])
    return _xml(200, envelope.answer(version, out), envelope.CONTENT_TYPES[version])


def serve(req: Request) -> Answer:
    return describe(req) if req.method in ("GET", "HEAD") else call(req)


def soap_handler() -> Handler:
    warm_up()  # clients built once per container, at init
    return DOOR.handler(serve)
