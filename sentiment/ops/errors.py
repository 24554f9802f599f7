"""Errors of the ops layer that commands catch, importable without its heavy
dependencies (pandas, scikit-learn), so a scoring process stays light."""

from __future__ import annotations


class PromotionError(RuntimeError):
    """Promotion or rollback cannot proceed; the message says why."""
