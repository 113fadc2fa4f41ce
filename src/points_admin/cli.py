"""`points-admin`: the operator tool. Applies an org's configuration, imports customers, point allocations
and UserGroup2 groups, grants goodwill points, shows a customer's wallet (or a group's) and converts wallets
stored before buckets, against the local stack or a real AWS account.

    points-admin [AWS options] apply-config FILE
    points-admin [AWS options] import-customers FILE --org ORG_ID [--batch-size N] [--rejects FILE]
    points-admin [AWS options] import-allocations FILE --org ORG_ID [--batch-size N] [--rejects FILE]
    points-admin [AWS options] import-groups FILE --org ORG_ID [--batch-size N] [--rejects FILE]
    points-admin [AWS options] grant --org ORG_ID --program ID --points N --reason TEXT
                 (--customer-id ID | --mobile M | --email E | --external-id X | --card-number C
                  | --card-external-id X) [--expires-at ISO] [--reference REF]
    points-admin [AWS options] wallet --org ORG_ID [--program ID] [--json]
                 (--customer-id ID | --mobile M | --email E | --external-id X | --card-number C
                  | --card-external-id X | --group ID | --group-external-id X)
    points-admin [AWS options] migrate-wallets --org ORG_ID [--dry-run]

Exit codes: 0 done; 1 an import rejected some rows (the others are written), or `wallet` found no such
customer, wallet or group; 2 a usage or configuration error, or AWS out of reach (nothing, or nothing more,
was written).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from points_admin import allocations, config_file, customers, grant, groups, migrate, wallet
from points_admin.allocations import AllocationRows
from points_admin.connection import LOCAL_AWS_URL, AwsOptions, Backend, Table
from points_admin.csv_import import print_summary, run_import
from points_admin.customers import CustomerRows
from points_admin.errors import CommandError, NotFound
from points_core.domain.digits import ascii_digits
from points_core.domain.identifiers import IdentifierType
from points_core.domain.models import OrgConfig

PROG = "points-admin"
DEFAULT_BATCH_SIZE = 100
EXIT_NOT_FOUND = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

Command = Callable[[argparse.Namespace, Backend], int]


def _positive_int(text: str) -> int:
    if not ascii_digits(text.strip()):  # int() also reads other scripts' digits, 1_000 and a sign
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}")
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0: {text}")
    return value


def _org(backend: Backend, org_id: int) -> OrgConfig:
    org = backend.config.org(org_id)
    if org is None:
        raise CommandError(f"org {org_id} is not configured (run apply-config first)")
    return org


def _apply_config(args: argparse.Namespace, backend: Backend) -> int:
    return config_file.run(args.file, backend)


def _import_customers(args: argparse.Namespace, backend: Backend) -> int:
    handler = CustomerRows(_org(backend, args.org), backend.customers)
    summary = run_import(args.file, handler, batch_size=args.batch_size, rejects_path=args.rejects)
    return print_summary(summary, args.rejects)


def _import_allocations(args: argparse.Namespace, backend: Backend) -> int:
    org = _org(backend, args.org)
    try:
        handler = AllocationRows(org, backend.customers)
    except ValueError as error:
        raise CommandError(str(error)) from None
    summary = run_import(args.file, handler, batch_size=args.batch_size, rejects_path=args.rejects)
    return print_summary(summary, args.rejects)


def _import_groups(args: argparse.Namespace, backend: Backend) -> int:
    org = _org(backend, args.org)
    summary = groups.run(
        args.file,
        org,
        backend.customers,
        backend.groups,
        batch_size=args.batch_size,
        rejects_path=args.rejects,
    )
    return print_summary(summary, args.rejects)


def _grant(args: argparse.Namespace, backend: Backend) -> int:
    identifier_type = _given_identifier(args)
    request = grant.GrantRequest(
        org_id=args.org,
        program_id=args.program,
        points=args.points,
        reason=args.reason,
        identifier_type=identifier_type,
        identifier=getattr(args, identifier_type.value),
        expires_at=args.expires_at,
        reference=args.reference,
    )
    return grant.run(request, backend)


def _given_identifier(args: argparse.Namespace) -> IdentifierType:
    return next(t for t in IdentifierType if getattr(args, t.value) is not None)


def _wallet(args: argparse.Namespace, backend: Backend) -> int:
    if args.group is not None or args.group_external_id is not None:
        group_request = wallet.GroupWalletRequest(
            org_id=args.org,
            group_id=args.group,
            external_id=args.group_external_id,
            program_id=args.program,
            as_json=args.json,
        )
        return wallet.run_group(group_request, backend)
    identifier_type = _given_identifier(args)
    request = wallet.WalletRequest(
        org_id=args.org,
        identifier_type=identifier_type,
        identifier=getattr(args, identifier_type.value),
        option=grant.identifier_option(identifier_type),
        program_id=args.program,
        as_json=args.json,
    )
    return wallet.run(request, backend)


def _migrate_wallets(args: argparse.Namespace, backend: Backend) -> int:
    _org(backend, args.org)
    return migrate.run(migrate.MigrateRequest(org_id=args.org, dry_run=args.dry_run), backend)


def _add_import(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    summary: str,
    columns: str | None,
    run: Command,
) -> None:
    # The module's docstring is the column reference: `--help` shows it as written.
    command = commands.add_parser(
        name, help=summary, description=columns, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    command.set_defaults(run=run)
    command.add_argument("file", type=Path, metavar="FILE", help="CSV file with a header (UTF-8)")
    command.add_argument("--org", type=_positive_int, required=True, metavar="ORG_ID")
    command.add_argument(
        "--batch-size",
        type=_positive_int,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help=f"valid rows written together (default {DEFAULT_BATCH_SIZE})",
    )
    command.add_argument(
        "--rejects",
        type=Path,
        metavar="FILE.csv",
        help="write the rejected rows there: their columns plus line and reason",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Operator tool of the points redemption service.",
        epilog="Exit codes: 0 done, 1 some import rows rejected or (wallet) no such customer or wallet, "
        "2 usage, configuration or AWS error.",
    )
    _add_aws_options(parser)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_apply_config(commands)
    _add_import(
        commands, "import-customers", "import customers from a CSV file", customers.__doc__, _import_customers
    )
    _add_import(
        commands,
        "import-allocations",
        "import point allocations from a CSV file",
        allocations.__doc__,
        _import_allocations,
    )
    _add_import(
        commands,
        "import-groups",
        "import UserGroup2 groups (families, fleets) and their members from a CSV file",
        groups.__doc__,
        _import_groups,
    )
    _add_grant(commands)
    _add_wallet(commands)
    _add_migrate_wallets(commands)
    return parser


def _add_aws_options(parser: argparse.ArgumentParser) -> None:
    aws = parser.add_argument_group("AWS (otherwise the normal AWS configuration: environment, profile)")
    aws.add_argument(
        "--endpoint-url", help="e.g. http://127.0.0.1:5000 for the local stack (or AWS_ENDPOINT_URL)"
    )
    aws.add_argument(
        "--local",
        action="store_true",
        help=f"the stack `make run` started: its tables, at {LOCAL_AWS_URL} (or --endpoint-url)",
    )
    aws.add_argument("--region")
    aws.add_argument("--profile")
    aws.add_argument(
        "--stack-name",
        help="read the table names and the usage plan id from this CloudFormation stack's outputs",
    )
    aws.add_argument(
        "--usage-plan-id",
        metavar="ID",
        help="the usage plan of the tills' API keys, for apply-config (default: the stack's, $USAGE_PLAN_ID)",
    )
    for table in Table:
        aws.add_argument(table.option, metavar="NAME", help=f"default: ${table.environment}")


def _add_apply_config(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    apply_config = commands.add_parser(
        "apply-config",
        help="apply an org's configuration and tills from a YAML or JSON file",
        description="Apply an org's configuration and tills from a YAML or JSON file (see demo/org.yaml).",
    )
    apply_config.add_argument("file", type=Path, metavar="FILE")
    apply_config.set_defaults(run=_apply_config)


def _add_grant(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    grant_parser = commands.add_parser(
        "grant",
        help="grant goodwill points to one customer",
        description="Grant goodwill points to one customer (member care): one allocation, recorded with its "
        "reason. With --reference the grant is idempotent (allocation id GW-<REF>); without it, every grant "
        "is a new one. Prints the customer's new balance in the program.",
    )
    grant_parser.add_argument("--org", type=_positive_int, required=True, metavar="ORG_ID")
    grant_parser.add_argument("--program", type=_positive_int, required=True, metavar="PROGRAM_ID")
    grant_parser.add_argument("--points", required=True, metavar="N", help="up to 3 decimal places")
    grant_parser.add_argument("--reason", required=True, metavar="TEXT", help="kept in the ledger")
    _add_customer_options(grant_parser)
    grant_parser.add_argument(
        "--expires-at",
        metavar="ISO",
        help="ISO-8601; without an offset, the org's local time (default: never)",
    )
    grant_parser.add_argument("--reference", metavar="REF", help="makes the grant idempotent: GW-<REF>")
    grant_parser.set_defaults(run=_grant)


def _add_wallet(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    wallet_parser = commands.add_parser(
        "wallet",
        help="show a customer's balance and points by expiry, in the head and the pages (read-only)",
        description=wallet.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    wallet_parser.add_argument("--org", type=_positive_int, required=True, metavar="ORG_ID")
    named = _add_customer_options(wallet_parser)
    named.add_argument(
        "--group",
        metavar="GROUP_ID",
        help="a UserGroup2 group instead of a customer: its members and their balances",
    )
    named.add_argument("--group-external-id", metavar="VALUE", help="the group by its external id")
    wallet_parser.add_argument(
        "--program",
        type=_positive_int,
        metavar="PROGRAM_ID",
        help="only this program (default: every program of the org the customer has a wallet in; for a "
        "group, its redemption programs)",
    )
    wallet_parser.add_argument(
        "--json", action="store_true", help="print JSON (points as exact numbers, no expiry as null)"
    )
    wallet_parser.set_defaults(run=_wallet)


def _add_migrate_wallets(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    migrate_parser = commands.add_parser(
        "migrate-wallets",
        help="convert an org's wallets stored with their allocations inline into buckets",
        description=migrate.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    migrate_parser.add_argument("--org", type=_positive_int, required=True, metavar="ORG_ID")
    migrate_parser.add_argument(
        "--dry-run", action="store_true", help="count the wallets to convert, write nothing"
    )
    migrate_parser.set_defaults(run=_migrate_wallets)


def _add_customer_options(parser: argparse.ArgumentParser) -> argparse._MutuallyExclusiveGroup:
    """One of the identifiers the API accepts, normalized as the API does (e.g. a national mobile number);
    the group they are in, for more options of which one is required."""
    customer = parser.add_mutually_exclusive_group(required=True)
    for identifier_type in IdentifierType:
        customer.add_argument(
            grant.identifier_option(identifier_type), dest=identifier_type.value, metavar="VALUE"
        )
    return customer


def _fail(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        # argparse exits on --help and on usage errors; a caller running main() in-process gets the code.
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    tables = {table: name for table in Table if (name := getattr(args, f"{table.value}_table")) is not None}
    backend = Backend(
        AwsOptions(
            endpoint_url=args.endpoint_url or (LOCAL_AWS_URL if args.local else None),
            region=args.region,
            profile=args.profile,
            stack_name=args.stack_name,
            tables=tables,
            local=args.local,
            usage_plan_id=args.usage_plan_id,
        )
    )
    command: Command = args.run
    try:
        return command(args, backend)
    except CommandError as error:
        _fail(str(error))
    except NotFound as error:
        _fail(str(error))
        return EXIT_NOT_FOUND
    except (BotoCoreError, ClientError) as error:
        _fail(f"AWS: {error}")
    except OSError as error:
        _fail(f"{error.filename}: {error.strerror}" if error.filename else str(error))
    except KeyboardInterrupt:
        _fail("interrupted; running the same command again is safe")
        return EXIT_INTERRUPTED
    return EXIT_USAGE
