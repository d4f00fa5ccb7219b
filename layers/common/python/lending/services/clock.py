"""The clock seam lives in `lending.clock` (below every layer, so jobs and notify read it too)."""

from ..clock import frozen, now

__all__ = ["frozen", "now"]
