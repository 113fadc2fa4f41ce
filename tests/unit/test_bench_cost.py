"""The bench's cost per million requests: AWS list prices applied to the measured figures, at the memory
template.yaml gives the functions (and the README's statement of it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks.history import cost_per_million, function_memory_gb

ROOT = Path(__file__).resolve().parents[2]


def test_the_memory_priced_is_the_templates() -> None:
    text = (ROOT / "template.yaml").read_text()
    assert "    MemorySize: 512\n" in text  # Globals.Function, every function's
    assert function_memory_gb() == 0.5
    assert "Lambda arm64 at the template's 512 MB" in (ROOT / "README.md").read_text()


def test_a_function_with_memory_of_its_own_is_refused(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(
        "Globals:\n  Function:\n    MemorySize: 512\n"
        "Resources:\n  Odd:\n    Type: AWS::Serverless::Function\n    Properties:\n      MemorySize: 1024\n"
    )
    with pytest.raises(ValueError, match="Odd has MemorySize 1024"):
        function_memory_gb(template)


def test_the_cost_of_one_redemption_by_list_prices() -> None:
    # 1 RCU and 6 WCU; 20 ms of a 512 MB arm64 function
    cost = cost_per_million({"rcu": 1.0, "wcu": 6, "p50_ms": 20.0})

    assert cost["dynamodb"] == pytest.approx(1 * 0.125 + 6 * 0.625)  # $ per million units
    assert cost["lambda"] == pytest.approx(0.020 * 0.5 * 13.3334 + 0.20)  # GB-seconds, then requests
    assert cost["api_gateway"] == 3.50
    assert cost["total"] == pytest.approx(3.875 + 0.333334 + 3.50)
    assert cost_per_million({"rcu": 1.0, "wcu": 6, "p50_ms": 20.0}, memory_gb=1.0)["lambda"] == pytest.approx(
        0.020 * 1.0 * 13.3334 + 0.20
    )
