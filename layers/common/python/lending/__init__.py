"""The lending hub: one domain core behind the PNB, library API v1 and warehouse doors."""
