"""The lending hub: one domain core behind the PNB, library API v1 and warehouse doors."""

from . import coldstart

coldstart.pause()  # a Lambda container's init runs without the collector (coldstart.py says why)
