"""PNB over SOAP: pnb.xsd (the messages), schema (its model), envelope (hardened reading, Faults),
codec (XML to the core's dicts and back), wsdl (the service description), door (the Lambda handler)."""
