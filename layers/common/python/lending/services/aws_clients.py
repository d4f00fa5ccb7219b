"""The AWS client factory lives in `lending.aws` (below every layer: notify and catalogue use it too)."""

from ..aws import client

__all__ = ["client"]
