"""pytest fixtures and hooks only; the shared helpers live in ``harness``."""

import pytest

from harness import FAMILIES


@pytest.fixture(params=FAMILIES)
def family(request):
    return request.param
