"""The direction of imports between the layer's packages, as a check: the pure domain imports no boto3, no
environment, no HTTP, no wire format and reads no clock; the wire format and the data access know nothing of
each other; functions only wire routes to the layer. docs/architecture.md's layer table says the same (the
last test keeps the two together)."""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

LAYER = ROOT / "layers/points_core/python"
ARCHITECTURE = ROOT / "docs/architecture.md"


@dataclass(frozen=True)
class Rule:
    may_import: tuple[str, ...]
    """Packages of ours this place may import (a prefix: `points_core.aws` covers its modules)."""
    forbidden: tuple[str, ...] = ()
    """Other modules it may not import (third-party or standard library), by prefix."""


PURE = ("boto3", "botocore", "aws_lambda_powertools", "os", "http", "urllib", "socket", "json", "time")

RULES: dict[str, Rule] = {
    "points_core.domain": Rule(("points_core.domain",), forbidden=PURE),
    "points_core.aws": Rule(("points_core.aws", "points_core.domain")),
    "points_core.repositories": Rule(
        ("points_core.repositories", "points_core.aws", "points_core.domain"),
        forbidden=("aws_lambda_powertools.event_handler",),
    ),
    "points_core.services": Rule(
        ("points_core.services", "points_core.repositories", "points_core.aws", "points_core.domain"),
        forbidden=("aws_lambda_powertools.event_handler", "boto3", "botocore"),
    ),
    "points_core.capillary": Rule(
        ("points_core.capillary", "points_core.services", "points_core.domain"),
        forbidden=("boto3", "botocore", "aws_lambda_powertools", "os"),
    ),
    "points_core.api": Rule(
        ("points_core.api", "points_core.capillary", "points_core.aws", "points_core.domain"),
        forbidden=("boto3", "botocore"),
    ),
    "functions": Rule(
        (
            "points_core.api",
            "points_core.capillary",
            "points_core.services",
            "points_core.domain",
            "points_core.aws.observability",
            "points_core.aws.clock",
        ),
        forbidden=("boto3", "botocore"),
    ),
}
CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter"}


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            # `from points_core import views` names a module too
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return found


def violations(place: str, source: str, rule: Rule) -> list[str]:
    """What `source` (a module of `place`) imports, or reads, against `rule`."""
    tree = ast.parse(source)
    problems: list[str] = []
    for line, name in _imports(tree):
        ours = name.startswith("points_core")
        if (ours and not _under(name, rule.may_import)) or (not ours and _under(name, rule.forbidden)):
            problems.append(f"{place}:{line} imports {name}")
    if rule.forbidden is PURE:
        for node in ast.walk(tree):
            call = node.func if isinstance(node, ast.Call) else None
            if isinstance(call, ast.Attribute) and call.attr in CLOCK_CALLS:
                problems.append(f"{place}:{node.lineno} reads the clock ({call.attr})")
    return problems


def _modules() -> list[tuple[str, Path]]:
    modules = [
        (".".join(path.relative_to(LAYER).with_suffix("").parts), path)
        for path in sorted((LAYER / "points_core").rglob("*.py"))
    ]
    modules += [(f"functions.{path.parent.name}", path) for path in sorted(ROOT.glob("functions/*/app.py"))]
    return modules


def _rule_of(module: str) -> tuple[str, Rule] | None:
    matching = [(place, rule) for place, rule in RULES.items() if _under(module, (place,))]
    return max(matching, key=lambda pair: len(pair[0])) if matching else None


def test_every_module_of_the_layer_and_every_function_is_in_a_layer() -> None:
    outside = [
        module
        for module, _ in _modules()
        if _rule_of(module) is None and module not in ("points_core.__init__", "points_core")
    ]
    assert outside == []


def test_imports_go_one_way() -> None:
    problems: list[str] = []
    for module, path in _modules():
        placed = _rule_of(module)
        if placed is not None:
            problems += violations(str(path.relative_to(ROOT)), path.read_text(), placed[1])
    assert problems == []


@pytest.mark.parametrize(
    ("place", "source"),
    [
        ("points_core.domain", "import boto3\n"),
        ("points_core.domain", "from os import environ\n"),
        ("points_core.domain", "from points_core.capillary.envelope import v11\n"),
        ("points_core.domain", "from points_core import repositories\n"),
        ("points_core.domain", "from datetime import datetime\nx = datetime.now()\n"),
        ("points_core.repositories", "from points_core.services.orgs import load_org\n"),
        ("points_core.capillary", "from points_core.repositories import keys\n"),
        ("points_core.services", "from points_core.api.resolver import caller\n"),
        ("functions", "from points_core.repositories import customer_repository\n"),
        ("functions", "import boto3\n"),
    ],
)
def test_the_check_sees_a_wrong_import(place: str, source: str) -> None:
    assert violations(place, source, RULES[place]) != []


def test_the_check_lets_an_allowed_import_through() -> None:
    source = "from points_core.domain.models import Wallet\nfrom decimal import Decimal\n"
    assert violations("points_core.domain", source, RULES["points_core.domain"]) == []


def test_the_architecture_note_has_the_same_rule() -> None:
    """Each row of docs/architecture.md's layer table: `place` | what | may import (as code spans)."""
    table: dict[str, set[str]] = {}
    for line in ARCHITECTURE.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and re.fullmatch(r"`[a-z_.]+`", cells[0]):
            table[cells[0].strip("`")] = set(re.findall(r"`([a-z_.]+)`", cells[2]))
    assert table == {place: set(rule.may_import) - {place} for place, rule in RULES.items()}


def test_the_standard_library_names_used_in_the_rule_exist() -> None:
    """A misspelt module in `forbidden` would forbid nothing."""
    stdlib = set(sys.stdlib_module_names)
    for rule in RULES.values():
        for name in rule.forbidden:
            root = name.split(".")[0]
            assert root in stdlib or root in ("boto3", "botocore", "aws_lambda_powertools"), name
