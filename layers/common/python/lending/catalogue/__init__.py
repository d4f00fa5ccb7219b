"""The catalogue: ONIX 3.0 reading and writing, distributor connectors, and the one ingest path."""
