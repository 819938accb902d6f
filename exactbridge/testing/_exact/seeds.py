"""Seed helpers for the fake Exact Online (work in progress: templates follow)."""

from __future__ import annotations

from typing import Any

import attrs

from exactbridge.testing._exact.domain import ExactDomain

__all__ = ["SeededDivision", "seed_division"]


@attrs.frozen
class SeededDivision:
    """What :func:`seed_division` created."""

    division: int
    template: str | None


def seed_division(
    domain: ExactDomain, code: int, *, template: str | None = "nl", **options: Any
) -> SeededDivision:
    """Create division ``code`` (templates are being filled in)."""
    if not domain.has_division(code):
        domain.add_division(code, description=str(options.get("description", "")))
    return SeededDivision(division=code, template=template)
