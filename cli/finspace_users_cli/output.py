"""How an answer is printed: rich tables for people (the default), one JSON document
(--json) or one CSV table (--csv) for scripts. Every answer says which snapshots answered
and that they verified, and names any that were left out; in CSV that goes to stderr,
so that stdout stays one table."""

import csv
import json
import sys
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table


@dataclass
class Rows:
    title: str
    columns: list[str]
    rows: list[list[Any]]
    shown: tuple[str, ...] = ()  # the columns a table for people shows (default: all)


@dataclass
class Answer:
    lines: list[str] = field(default_factory=list)
    tables: list[Rows] = field(default_factory=list)
    document: dict[str, Any] = field(default_factory=dict)
    csv_table: int = 0  # which table --csv prints
    provenance: dict[str, Any] = field(default_factory=dict)
    empty: str = ""  # printed instead of a table that has no rows


# Identifiers and times a reader copies: never folded.
NO_WRAP = ("userId", "scheduledTime", "previousScheduledTime")


def shown(value: Any) -> str:
    return "—" if value is None else str(value)


def provenance_lines(provenance: dict[str, Any]) -> list[str]:
    answered = [entry["scheduledTime"] for entry in provenance.get("answeredBy", [])]
    if len(answered) == 1:
        told = f"Answered by snapshot {answered[0]}, verified"
    elif answered:
        told = f"Answered by {len(answered)} snapshots, {answered[0]} to {answered[-1]}, all verified"
    else:
        told = "No verified snapshot answered"
    lines = [
        f"{told} (signatures, chain links, versions, and the SHA-256 of every object read) in {provenance['source']}."
    ]
    for left in provenance.get("leftOut", []):
        lines.append(f"Left out: {left['scheduledTime']} does not verify ({'; '.join(left['findings'])}).")
    lines += [f"note: {note}" for note in provenance.get("notes", [])]
    return lines


def print_answer(answer: Answer, as_json: bool, as_csv: bool) -> None:
    if as_json:
        print(json.dumps({**answer.document, "provenance": answer.provenance}, indent=2, default=str))
        return
    if as_csv:
        table = answer.tables[answer.csv_table]
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(table.columns)
        writer.writerows([["" if value is None else value for value in row] for row in table.rows])
        for line in provenance_lines(answer.provenance):
            print(line, file=sys.stderr)
        return
    console = Console()
    for line in answer.lines:
        console.print(line, highlight=False, soft_wrap=True)
    for table in answer.tables:
        if not table.rows:
            if answer.empty:
                console.print(answer.empty, highlight=False, soft_wrap=True)
            continue
        shown_table = Table(title=table.title, title_justify="left")
        picked = [table.columns.index(name) for name in table.shown] or list(range(len(table.columns)))
        for index in picked:
            name = table.columns[index]
            shown_table.add_column(name, overflow="fold", no_wrap=name in NO_WRAP)
        for row in table.rows:
            shown_table.add_row(*[shown(row[index]) for index in picked])
        console.print(shown_table)
    for line in provenance_lines(answer.provenance):
        console.print(line, highlight=False, markup=False, soft_wrap=True)
