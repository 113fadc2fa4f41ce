from __future__ import annotations

from typing import Any

import pytest

from .cfn import load_template, sam_transform


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    """template.yaml as written (SAM)."""
    return load_template()


@pytest.fixture(scope="session")
def transformed(template: dict[str, Any]) -> dict[str, Any]:
    """template.yaml after the SAM transform: the CloudFormation that would be deployed."""
    return sam_transform(template)
