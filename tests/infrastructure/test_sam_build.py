"""`sam build` works here: no Docker, no Python 3.13, no network (pure-Python code, no requirements files).

It runs with the project's samconfig.toml (cached, parallel) into a temporary folder; the working directory
is that folder too, so SAM's .aws-sam/ bookkeeping never lands in the repository.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .cfn import ROOT, SAM_FUNCTION, SAM_LAYER, SAMCONFIG, TEMPLATE, load_template, resources_of_type, run_sam

pytestmark = pytest.mark.infra


def _code_uri(template: dict[str, Any], function: dict[str, Any]) -> str:
    globals_ = template.get("Globals", {}).get("Function", {})
    return function["Properties"].get("CodeUri", globals_.get("CodeUri"))


def _handler_module(template: dict[str, Any], function: dict[str, Any]) -> str:
    globals_ = template.get("Globals", {}).get("Function", {})
    handler = function["Properties"].get("Handler", globals_.get("Handler"))
    return handler.rsplit(".", 1)[0].replace(".", "/") + ".py"


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("sam-build")
    build = work / "build"
    result = run_sam(
        "build",
        "--template",
        str(TEMPLATE),
        "--config-file",
        str(SAMCONFIG),
        "--build-dir",
        str(build),
        "--cache-dir",
        str(work / "cache"),
        cwd=work,
        timeout=300,
    )
    assert result.returncode == 0, f"sam build failed:\n{result.stdout}\n{result.stderr}"
    return build


def test_sources_need_no_docker_or_python_313() -> None:
    # A requirements.txt in a function folder, or a python build method on a layer, makes `sam build` need a
    # python3.13 interpreter (or Docker). Dependencies come from the runtime (boto3) and the Powertools layer.
    template = load_template()
    for function_id, function in resources_of_type(template, SAM_FUNCTION).items():
        assert not (ROOT / _code_uri(template, function) / "requirements.txt").exists(), function_id
        assert "BuildMethod" not in function.get("Metadata", {}), function_id
    for layer_id, layer in resources_of_type(template, SAM_LAYER).items():
        build_method = layer.get("Metadata", {}).get("BuildMethod", "")
        assert not build_method.startswith("python"), f"{layer_id}: BuildMethod {build_method}"


def test_build_contains_every_function_handler(build_dir: Path) -> None:
    source = load_template()
    built = load_template(build_dir / "template.yaml")
    functions = resources_of_type(source, SAM_FUNCTION)
    assert functions
    for function_id, function in functions.items():
        module = _handler_module(source, function)
        code_dir = build_dir / built["Resources"][function_id]["Properties"]["CodeUri"]
        assert (code_dir / module).is_file(), (
            f"{function_id}: {module} from {_code_uri(source, function)} is not in the build ({code_dir})"
        )


def test_build_points_at_the_points_core_layer(build_dir: Path) -> None:
    # A layer without a BuildMethod is not copied: the built template points at its source folder, which is
    # what `sam deploy` zips. Either way, that folder must hold the python/ tree Lambda puts on sys.path.
    built = load_template(build_dir / "template.yaml")
    layers = resources_of_type(built, SAM_LAYER)
    assert "PointsCoreLayer" in layers
    for layer_id, layer in layers.items():
        content = (build_dir / layer["Properties"]["ContentUri"]).resolve()
        assert (content / "python").is_dir(), f"{layer_id}: no python/ folder in {content}"
    content = (build_dir / layers["PointsCoreLayer"]["Properties"]["ContentUri"]).resolve()
    assert (content / "python" / "points_core" / "__init__.py").is_file()
