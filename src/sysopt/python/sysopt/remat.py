"""Memory plans for training neural networks (tensor rematerialisation)."""

from ._core import remat as _remat

plan = _remat.plan

__all__ = ["plan"]
