"""`points-local`: run the whole service on loopback until Ctrl-C (what `make run` starts)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from points_local import LOCAL_AWS_PORT, LOCAL_REGION

# The commands besides serving, each with its own parser: `points-local` alone keeps its options as they were.
COMMANDS = {"invoke": "points_local.invoke", "generate-event": "points_local.generate_event"}

if TYPE_CHECKING:
    from points_local.outbox import Delivery
    from points_local.stack import LocalStack


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="points-local",
        description="Run the service locally without Docker: embedded AWS (moto), the template's tables, "
        "topics, secrets, functions and schedules, demo data, and the API on loopback.",
        epilog="Other commands, as sam local's: `points-local invoke FUNCTION [-e EVENT_FILE]` runs one "
        "function once; `points-local generate-event apigateway aws-proxy|authorizer` and `points-local "
        "generate-event schedule` print an event for it. Each has its own --help.",
    )
    parser.add_argument("--port", type=int, default=3000, help="API port (default 3000; 0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="API address, loopback only (default 127.0.0.1)")
    parser.add_argument("--template", default="template.yaml", help="SAM template (default template.yaml)")
    parser.add_argument(
        "--moto-port",
        type=int,
        default=LOCAL_AWS_PORT,
        help=f"embedded AWS port (default {LOCAL_AWS_PORT}: where `points-admin --local` looks; 0: any free)",
    )
    parser.add_argument("--region", default="eu-west-1", help="AWS region (default eu-west-1)")
    parser.add_argument(
        "--workers-per-function", type=int, default=4, help="most worker processes per function (default 4)"
    )
    parser.add_argument(
        "--demo-dir", default="demo", help="demo data folder, relative to the template (default demo)"
    )
    parser.add_argument("--no-demo", action="store_true", help="do not load the demo data")
    return parser.parse_args(argv)


def demo_logins(org_file: Path) -> list[tuple[str, str]]:
    """The demo tills and what a client sends as their password (its MD5), for copy and paste."""
    import yaml  # noqa: PLC0415 - see main(): workers re-import this module

    from points_core.domain.passwords import client_password  # noqa: PLC0415

    document = yaml.safe_load(org_file.read_text(encoding="utf-8")) if org_file.exists() else {}
    return [
        (till["username"], client_password(till["password"]))
        for till in (document or {}).get("tills", [])
        if "password" in till
    ]


def banner(stack: LocalStack) -> str:
    """What is running and where."""
    lines = [f"points-local: API {stack.api_url} (stage {stack.api.stage})"]
    for route in stack.api.routes:
        guard = f" [authorizer {route.authorizer}]" if route.authorizer else ""
        lines.append(f"  {route.method:<6} {route.path} -> {route.function_id}{guard}")
    lines.append(f"points-local: AWS (moto) {stack.aws_endpoint_url}, region {stack.region}")
    lines.append(f"  tables: {', '.join(stack.tables) or '-'}")
    lines.append(f"  topics: {', '.join(stack.topics) or '-'}")
    lines.append(f"  secrets: {', '.join(stack.secrets) or '-'}")
    if stack.schedules:
        lines.append("points-local: schedules")
    for schedule in stack.schedules:
        state = "" if schedule.enabled else ", disabled"
        # The event is named only when the function has several schedules.
        several = sum(other.function_id == schedule.function_id for other in stack.schedules) > 1
        name = f"{schedule.function_id}/{schedule.event_id}" if several else schedule.function_id
        lines.append(
            f"  {schedule.expression} -> {schedule.function_id} ({schedule.event_id}{state}); "
            f"run now: curl -s -X POST {stack.api_url}/_local/schedules/{name}"
        )
    lines.append(f"points-local: codes sent by SMS and email: curl -s {stack.api_url}/_local/outbox")
    lines.append(f"points-local: API docs (Swagger UI, offline): {stack.api_url}/_local/docs")
    # What `points-admin --local` needs to be told to reach this stack: where, and in which region.
    local = (
        "--local"
        if stack.aws_endpoint_url == f"http://127.0.0.1:{LOCAL_AWS_PORT}"
        else f"--local --endpoint-url {stack.aws_endpoint_url}"
    )
    if stack.region != LOCAL_REGION:
        local += f" --region {stack.region}"
    lines.append(f"points-local: operator tool on this stack: .venv/bin/points-admin {local} COMMAND ...")
    if stack.demo_loaded:
        lines.append("points-local: demo data loaded")
        lines.extend(f"  points-admin {step}" for step in stack.demo_loaded)
        orgs = [step.split("--org ", 1)[1].split()[0] for step in stack.demo_loaded if "--org " in step]
        if orgs:
            lines.append(
                f"  a wallet: .venv/bin/points-admin {local} wallet --org {orgs[0]} --customer-id 1001"
            )
        logins = demo_logins(stack.demo_dir / "org.yaml")
        lines.extend(f"  till {user}: curl -u {user}:{md5} ..." for user, md5 in logins)
        if logins:
            user, md5 = logins[0]
            query = "format=json&mobile=919000000001&points=100"
            lines.append(f"Try: curl -s -u {user}:{md5} '{stack.api_url}/v1.1/points/isredeemable?{query}'")
    else:
        lines.append("points-local: no demo data loaded")
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


def delivery_line(delivery: Delivery) -> str:
    """One console line per message sent: locally, the outbox is how a developer gets a validation code."""
    from points_core.aws.observability import mask_email, mask_mobile  # noqa: PLC0415 - see main()
    from points_local.outbox import SMS  # noqa: PLC0415

    if delivery.channel == SMS:
        destination = mask_mobile(delivery.destination.lstrip("+"))
    else:
        destination = mask_email(delivery.destination)
    # One line per delivery, however the message is laid out.
    text = " ".join(delivery.message.split())
    return f"points-local: validation code by {delivery.channel} to {destination}: {text}"


def _print_delivery(delivery: Delivery) -> None:
    print(delivery_line(delivery), flush=True)


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    if given and given[0] in COMMANDS:
        # Imported only for its command: see below, the workers re-import this module.
        import importlib  # noqa: PLC0415

        command: int = importlib.import_module(COMMANDS[given[0]]).main(given[1:])
        return command
    arguments = _arguments(argv)
    stop = threading.Event()
    # Installed before anything starts: a Ctrl-C during startup stops the stack right after it is up.
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stop.set())
    # The local stack's own messages (one line per request) at INFO; libraries only when something is wrong.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("points_local").setLevel(logging.INFO)
    # Imported here, not at the top: worker processes re-import this module when started from the
    # console script, and must not pay for moto and boto3 in their cold start.
    from points_local.stack import DemoLoadError, LocalStack  # noqa: PLC0415

    try:
        with LocalStack(
            arguments.template,
            host=arguments.host,
            port=arguments.port,
            moto_port=arguments.moto_port,
            region=arguments.region,
            load_demo=not arguments.no_demo,
            demo_dir=arguments.demo_dir,
            workers_per_function=arguments.workers_per_function,
            on_delivery=_print_delivery,
        ) as stack:
            print(banner(stack), flush=True)
            stop.wait()
            print("points-local: stopping", flush=True)
    except (DemoLoadError, OSError, ValueError) as error:
        print(f"points-local: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
