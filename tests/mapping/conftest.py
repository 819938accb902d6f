"""Fixtures of the mapping tests (builders live in ``mapping_builders``)."""

from __future__ import annotations

import pytest

from exactbridge.mapping import ReferenceData

from .mapping_builders import reference


@pytest.fixture
def ref() -> ReferenceData:
    return reference()
