"""`points-local invoke FUNCTION`: run one function of the template once with an event, as `sam local invoke`
does, without Docker.

It starts the embedded AWS on a free port (or uses the one of a running `make run`, `--endpoint-url`),
creates the template's resources, loads the demo data, and invokes the function in a fresh worker process,
the same "container" the local API runs it in: its handler and code folder, the layer on its path, the
environment the local stack gives it, its MemorySize and Timeout in the Lambda context. The function's
result (or its error, as Lambda reports it) is the only thing written to stdout; everything else, the
function's logs included, goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

from points_local.template import (
    DEFAULT_REGION,
    FUNCTION_TYPE,
    function_properties,
    load_template,
    resources_of_type,
)

if TYPE_CHECKING:
    from points_local.functions import InvocationResult
    from points_local.outbox import Delivery

PROG: Final = "points-local invoke"
# Exit statuses: the handler returned; it raised (or timed out, or its init failed); the command could not
# run it (a usage error, an unreadable event, a template or an AWS it cannot use).
EXIT_OK: Final = 0
EXIT_FUNCTION_ERROR: Final = 1
EXIT_USAGE: Final = 2
EXIT_INTERRUPTED: Final = 130
# The section of a `--env-vars` file that applies to every function, as in SAM's format.
ENV_VARS_GLOBAL: Final = "Parameters"


class InvokeError(Exception):
    """The command cannot invoke the function (exit status 2)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Invoke one function of the template once, locally and without Docker, as `sam local "
        "invoke` does: an embedded AWS with the template's resources and the demo data, the function run in "
        "a fresh worker process. Its JSON result is printed on stdout, its logs on stderr.",
        epilog="Exit status: 0 when the handler returned, 1 when it raised or timed out (its error, "
        "errorType and errorMessage, is printed on stdout as Lambda reports it), 2 when the function "
        "could not be invoked. Example: points-local invoke RedeemFunction -e events/redeem.json",
    )
    parser.add_argument("function", metavar="FUNCTION", help="the function's logical id in the template")
    parser.add_argument(
        "-e",
        "--event",
        metavar="EVENT_FILE",
        help="JSON file with the event, '-' to read it from stdin (default: an empty event, {})",
    )
    parser.add_argument(
        "-n",
        "--env-vars",
        metavar="FILE",
        help='JSON file of environment values, SAM\'s format: {"FunctionLogicalId": {"VAR": "value"}, '
        '"Parameters": {"VAR": "value"}} ("Parameters" for every function, a function\'s own win); only '
        "variables the template declares for the function are replaced",
    )
    parser.add_argument(
        "-t", "--template", default="template.yaml", help="SAM template (default template.yaml)"
    )
    parser.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="use the AWS of a running stack (`make run`: http://127.0.0.1:4566) instead of starting one: "
        "its tables, topics, secrets and data as they are; nothing is created, reset or loaded there",
    )
    parser.add_argument("--region", default=DEFAULT_REGION, help=f"AWS region (default {DEFAULT_REGION})")
    parser.add_argument("--no-demo", action="store_true", help="do not load the demo data")
    parser.add_argument(
        "--demo-dir", default="demo", help="demo data folder, relative to the template (default demo)"
    )
    return parser


def read_event(source: str | None, stdin: IO[str] | None = None) -> Any:
    """The event: `{}` without a source (as SAM sends), the JSON of stdin for `-`, else of that file."""
    if source is None:
        return {}
    if source == "-":
        text, name = (stdin or sys.stdin).read(), "on stdin"
    else:
        try:
            text, name = Path(source).read_text(encoding="utf-8"), f"in {source}"
        except OSError as error:
            raise InvokeError(f"cannot read the event file {source}: {error.strerror or error}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InvokeError(f"the event {name} is not JSON: {error}") from None


def _text(value: Any, where: str) -> str:
    # Lambda's environment holds strings; SAM writes booleans and numbers as JSON would.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if value is None:
        return ""
    raise InvokeError(f"{where}: an environment value must be a string, a number or a boolean")


def read_env_vars(path: str | None, function_ids: list[str]) -> dict[str, dict[str, str]]:
    """SAM's `--env-vars` file as overrides per function: `Parameters` for each, then the function's own."""
    if path is None:
        return {}
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise InvokeError(f"cannot read the --env-vars file {path}: {error.strerror or error}") from None
    except json.JSONDecodeError as error:
        raise InvokeError(f"the --env-vars file {path} is not JSON: {error}") from None
    if not isinstance(document, dict) or not all(isinstance(values, dict) for values in document.values()):
        raise InvokeError(
            f'{path}: expected {{"FunctionLogicalId": {{"VAR": "value"}}, "Parameters": {{"VAR": "value"}}}}'
        )
    sections = {
        section: {name: _text(value, f"{path}: {section}.{name}") for name, value in values.items()}
        for section, values in document.items()
    }
    shared = sections.get(ENV_VARS_GLOBAL, {})
    return {function_id: {**shared, **sections.get(function_id, {})} for function_id in function_ids}


def declared_variables(template: Mapping[str, Any], function_id: str) -> set[str]:
    """The names of the function's template environment (Globals merged)."""
    environment = function_properties(template, function_id).get("Environment") or {}
    return set(environment.get("Variables") or {})


@contextmanager
def stdout_kept_for_the_result() -> Iterator[IO[str]]:
    """Point file descriptor 1 at stderr for the block, so that whatever prints (the demo's loading, the
    worker processes, which inherit it, their logs and metrics) lands on stderr; yields the real stdout."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    result = os.fdopen(os.dup(saved), "w", encoding="utf-8")
    try:
        yield result
    finally:
        result.close()
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def error_document(result: InvocationResult) -> dict[str, Any]:
    """A failed invocation's error as Lambda (and so `sam local invoke`) prints it."""
    error = dict(result.error or {})
    return {
        "errorMessage": error.get("errorMessage", ""),
        "errorType": error.get("errorType", ""),
        "requestId": result.request_id,
        "stackTrace": error.get("stackTrace", []),
    }


def report_line(result: InvocationResult, memory_mb: int) -> str:
    """Lambda's REPORT log line for the invocation (without the memory used, which is not measured)."""
    parts = [
        f"REPORT RequestId: {result.request_id}",
        f"Duration: {result.duration_ms:.2f} ms",
        f"Billed Duration: {math.ceil(result.duration_ms)} ms",
        f"Memory Size: {memory_mb} MB",
    ]
    if result.init_duration_ms is not None:
        parts.append(f"Init Duration: {result.init_duration_ms:.2f} ms")
    return "\t".join(parts)


def _print_delivery(delivery: Delivery) -> None:
    from points_local.__main__ import delivery_line  # noqa: PLC0415 - the console's own line

    print(delivery_line(delivery), file=sys.stderr, flush=True)


def _fail(message: str) -> int:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)
    return EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    try:
        template = load_template(arguments.template)
    except (OSError, ValueError) as error:
        return _fail(str(error))
    function_ids = list(resources_of_type(template, FUNCTION_TYPE))
    if arguments.function not in function_ids:
        return _fail(f"no function {arguments.function} in {arguments.template}: {', '.join(function_ids)}")
    try:
        event = read_event(arguments.event)
        overrides = read_env_vars(arguments.env_vars, function_ids)
    except InvokeError as error:
        return _fail(str(error))
    ignored = sorted(
        set(overrides.get(arguments.function, {})) - declared_variables(template, arguments.function)
    )
    if ignored:
        print(
            f"{PROG}: --env-vars: {', '.join(ignored)} not in {arguments.function}'s template environment, "
            "ignored (as sam local ignores them)",
            file=sys.stderr,
        )
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Imported here: worker processes re-import the console script's module, not this one, but keep the
    # command's own start cheap until it knows what to run.
    from points_local.stack import DemoLoadError, ExternalAwsError, LocalStack  # noqa: PLC0415

    with stdout_kept_for_the_result() as result_stream:
        try:
            stack = LocalStack(
                arguments.template,
                region=arguments.region,
                load_demo=not arguments.no_demo,
                demo_dir=arguments.demo_dir,
                workers_per_function=1,
                on_delivery=_print_delivery,
                aws_endpoint_url=arguments.endpoint_url,
                serve=False,
                environment_overrides=overrides,
            )
            with stack:
                result = stack.invoke(arguments.function, event)
        except (DemoLoadError, ExternalAwsError, OSError, ValueError) as error:
            return _fail(str(error))
        except KeyboardInterrupt:
            print(f"{PROG}: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        print(report_line(result, stack.functions[arguments.function].memory_mb), file=sys.stderr, flush=True)
        document = result.payload if result.ok else error_document(result)
        result_stream.write(json.dumps(document, ensure_ascii=False) + "\n")
        result_stream.flush()
    return EXIT_OK if result.ok else EXIT_FUNCTION_ERROR
