"""The import loop shared by `import-customers`, `import-allocations` and `import-groups`.

The file is streamed (one row in memory at a time, plus the current batch). Each row is checked on its own,
good rows are written a batch at a time, and every bad row is reported as `line N: reason`, N being the
physical line where the row starts (the header is line 1), and is not written. Blank lines are skipped.
"""

from __future__ import annotations

import contextlib
import csv
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Generic, Protocol, TextIO, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from tqdm import tqdm

from points_admin.errors import CommandError

if TYPE_CHECKING:
    from _csv import Reader

ParsedT = TypeVar("ParsedT")
ValueT = TypeVar("ValueT")


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "already present"


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: str


class RowError(ValueError):
    """The row cannot be imported; the message is the reason (a mobile or email in it is masked)."""


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    fields: list[str]
    """As read, for the rejects file."""
    values: dict[str, str]
    """Column → stripped value; a missing optional column reads as empty."""

    def get(self, column: str) -> str:
        return self.values.get(column, "")

    def parsed(self, column: str, parse: Callable[[str], ValueT]) -> ValueT:
        """The column's value through `parse`; the reason of its `ValueError` becomes the row's, after the
        column's name."""
        try:
            return parse(self.get(column))
        except ValueError as error:
            raise RowError(f"{column}: {error}") from None


class Columns(Protocol):
    """The columns an import knows, and those its header must have."""

    columns: tuple[str, ...]
    required: frozenset[str]


class RowHandler(Protocol[ParsedT]):
    """What one kind of import knows: its columns, how to check a row, how to write a batch of good rows."""

    columns: tuple[str, ...]
    required: frozenset[str]

    def parse(self, row: Row) -> ParsedT:
        """The row's content, or `RowError`."""
        ...

    def write(self, batch: Sequence[tuple[Row, ParsedT]]) -> list[Outcome | Rejected]:
        """One outcome per row of `batch`, in its order."""
        ...


@dataclass(slots=True)
class Summary:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    @property
    def written(self) -> int:
        return self.created + self.updated + self.unchanged

    def __str__(self) -> str:
        return (
            f"{self.read} rows read: {self.written} written ({self.created} created, {self.updated} updated, "
            f"{self.unchanged} already present), {self.rejected} rejected"
        )


def _header(reader: Iterator[list[str]], handler: Columns) -> list[str]:
    fields = next(reader, None)
    if not fields:
        raise CommandError("line 1: the header is missing (the file is empty or starts with a blank line)")
    columns = [field.strip().lower() for field in fields]
    if "" in columns:
        raise CommandError(f"line 1: column {columns.index('') + 1} of the header has no name")
    repeated = sorted({column for column in columns if columns.count(column) > 1})
    if repeated:
        raise CommandError(f"line 1: repeated columns: {', '.join(repeated)}")
    unknown = [column for column in columns if column not in handler.columns]
    if unknown:
        raise CommandError(
            f"line 1: unknown columns: {', '.join(unknown)} (known: {', '.join(handler.columns)})"
        )
    missing = [column for column in handler.columns if column in handler.required - set(columns)]
    if missing:
        raise CommandError(f"line 1: missing columns: {', '.join(missing)}")
    return columns


class _Run(Generic[ParsedT]):
    """One pass over one file: counts, reports and the rejects file."""

    def __init__(
        self,
        handler: RowHandler[ParsedT],
        header: list[str],
        bar: tqdm,
        rejects: csv.DictWriter[str] | None,
    ) -> None:
        self.handler = handler
        self.header = header
        self.bar = bar
        self.rejects = rejects
        self.summary = Summary()
        self.batch: list[tuple[Row, ParsedT]] = []

    def reject(self, row: Row, reason: str) -> None:
        self.summary.rejected += 1
        self.bar.write(f"line {row.line}: {reason}", file=sys.stdout)
        if self.rejects is not None:
            # A row with too many or too few fields keeps its first fields under the header's names.
            padded = row.fields + [""] * (len(self.header) - len(row.fields))
            original = dict(zip(self.header, padded, strict=False))
            self.rejects.writerow({**original, "line": row.line, "reason": reason})

    def flush(self) -> None:
        if not self.batch:
            return
        first = self.batch[0][0].line
        try:
            outcomes = self.handler.write(self.batch)
        except (BotoCoreError, ClientError) as error:
            raise CommandError(
                f"writing the rows from line {first}: {error}. The rows before it are imported; "
                "running the same import again is safe."
            ) from error
        for (row, _), outcome in zip(self.batch, outcomes, strict=True):
            match outcome:
                case Rejected(reason):
                    self.reject(row, reason)
                case Outcome.CREATED:
                    self.summary.created += 1
                case Outcome.UPDATED:
                    self.summary.updated += 1
                case Outcome.UNCHANGED:
                    self.summary.unchanged += 1
        self.batch = []
        self.bar.set_postfix(rows=self.summary.read, rejected=self.summary.rejected, refresh=False)


def _progress(lines: Iterable[str], bar: tqdm) -> Iterator[str]:
    """The file's lines, each moving the bar by its size in bytes."""
    for line in lines:
        bar.update(len(line.encode()))
        yield line


def _rows(reader: Reader, header: list[str]) -> Iterator[Row]:
    """The rows after the header, blank lines skipped; a file that cannot be read is `CommandError` at the
    line it stops being readable."""
    while True:
        line = reader.line_num + 1
        try:
            fields = next(reader, None)
        except csv.Error as error:
            raise CommandError(f"line {line}: cannot read the file: {error}") from error
        except UnicodeDecodeError as error:
            raise CommandError(f"near line {line}: the file is not UTF-8 text") from error
        if fields is None:
            return
        if not any(field.strip() for field in fields):
            continue
        yield Row(line, fields, {c: f.strip() for c, f in zip(header, fields, strict=False)})


def _open(
    stack: contextlib.ExitStack, path: Path, handler: Columns, desc: str
) -> tuple[Reader, list[str], tqdm]:
    """The file's CSV reader, past its header (checked), and the progress bar it moves."""
    source = stack.enter_context(path.open(encoding="utf-8-sig", newline=""))
    # Progress in bytes of the file, the one measure known before reading it all. tqdm turns itself off
    # when stderr is not a terminal (CI, a log, the local stack calling main() in-process).
    bar = stack.enter_context(
        tqdm(
            total=os.fstat(source.fileno()).st_size,
            unit="B",
            unit_scale=True,
            desc=desc,
            file=sys.stderr,
            disable=None,
            leave=False,
        )
    )
    reader = csv.reader(_progress(source, bar))
    try:
        header = _header(reader, handler)
    except (csv.Error, UnicodeDecodeError) as error:
        raise CommandError(f"line 1: cannot read the header: {error}") from error
    return reader, header, bar


def scan_rows(path: Path, handler: Columns) -> Iterator[Row]:
    """The rows `run_import` would hand to `handler.parse`, in order, with their line numbers (rows with the
    wrong number of fields left out: the import rejects them itself): for an import that must see the whole
    file before it writes any of it. The header is checked as the import checks it."""
    with contextlib.ExitStack() as stack:
        reader, header, _ = _open(stack, path, handler, f"{path.name} (checking)")
        for row in _rows(reader, header):
            if len(row.fields) == len(header):
                yield row


def run_import(
    path: Path, handler: RowHandler[ParsedT], *, batch_size: int, rejects_path: Path | None
) -> Summary:
    with contextlib.ExitStack() as stack:
        reader, header, bar = _open(stack, path, handler, path.name)
        rejects: csv.DictWriter[str] | None = None
        if rejects_path is not None:
            rejects_file: TextIO = stack.enter_context(rejects_path.open("w", encoding="utf-8", newline=""))
            rejects = csv.DictWriter(rejects_file, fieldnames=[*header, "line", "reason"])
            rejects.writeheader()
        run = _Run(handler, header, bar, rejects)
        rows = _rows(reader, header)
        while True:
            try:
                row = next(rows, None)
            except CommandError:
                run.flush()
                raise
            if row is None:
                break
            run.summary.read += 1
            if len(row.fields) != len(header):
                run.reject(row, f"{len(row.fields)} fields where the header has {len(header)}")
                continue
            try:
                parsed = handler.parse(row)
            except RowError as error:
                run.reject(row, str(error))
                continue
            run.batch.append((row, parsed))
            if len(run.batch) >= batch_size:
                run.flush()
        run.flush()
        return run.summary


def print_summary(summary: Summary, rejects_path: Path | None) -> int:
    """Exit code: 0 when every row was imported, 1 when some were rejected (the others are written)."""
    print(summary)
    if rejects_path is not None:
        print(f"rejected rows: {rejects_path}")
    return 1 if summary.rejected else 0
