"""PNB over SOAP: GET /v2/pnb-numerique/soap?wsdl describes it, POST /v2/pnb-numerique/soap answers it."""

from lending.pnb.soap.door import soap_handler

lambda_handler = soap_handler()
