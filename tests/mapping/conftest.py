"""Fixtures of the mapping tests (builders live in ``mapping_builders``)."""

from __future__ import annotations

import pytest
from mapping_builders import reference

from exactbridge.mapping import ReferenceData


@pytest.fixture
def ref() -> ReferenceData:
    return reference()
