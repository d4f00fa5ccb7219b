"""The PNB protocol: request models, the twelve operations, the JSON and SOAP doors."""
