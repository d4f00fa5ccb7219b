"""The PNB protocol: request models, the operations, the JSON and SOAP doors."""
