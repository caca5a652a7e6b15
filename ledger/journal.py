"""Journal input: the YAML files people write, parsed and validated into entries.

A journal names one issuer and lists entries in the order they are to be recorded:

    issuer: neotherapeutics
    entries:
      - id: spa-2002-06-07-shares
        type: SharesPurchased
        effective: 2002-06-07
        ...

Numbers stay exact. YAML would read ``0.2325`` as a binary float; this loader builds a
Decimal from the characters written instead, so the journal's figures are the stored ones.
Every problem in a journal is reported at once; a journal with any problem stores nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ledger.entries import ENTRY_TYPES, AnyEntry, parse_entry
from ledger.errors import Rejected, Violation


class ExactLoader(yaml.SafeLoader):
    """SafeLoader whose floats are Decimals built from the source text."""


def _decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    text = str(loader.construct_scalar(node)).replace("_", "")  # type: ignore[arg-type]
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise yaml.constructor.ConstructorError(
            None, None, f"{text!r} is not a finite decimal number", node.start_mark
        )
    return value


def _date_or_text(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """An impossible date such as 2002-13-01 stays text, so validation reports it per entry
    instead of the YAML parser crashing on it."""
    try:
        return loader.construct_yaml_timestamp(node)  # type: ignore[arg-type]
    except ValueError:
        return loader.construct_scalar(node)  # type: ignore[arg-type]


def _decimal_int(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """Integers are read in base 10 only. YAML 1.1 would read 0400000 as octal (131,072) and
    1:30 as base 60 (90); such text stays text, and validation then reports it."""
    text = str(loader.construct_scalar(node))  # type: ignore[arg-type]
    plain = text.replace("_", "")
    if plain.lstrip("+-").isdigit():
        return int(plain, 10)
    return text


ExactLoader.add_constructor("tag:yaml.org,2002:float", _decimal)
ExactLoader.add_constructor("tag:yaml.org,2002:int", _decimal_int)
ExactLoader.add_constructor("tag:yaml.org,2002:timestamp", _date_or_text)


@dataclass(frozen=True)
class Journal:
    issuer: str
    entries: list[AnyEntry]
    source: str


def load_journal(path: Path) -> Journal:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise Rejected([Violation(str(path), "unreadable", err.strerror or str(err))]) from None
    return parse_journal(text, str(path))


def parse_journal(text: str, source: str = "<journal>") -> Journal:
    try:
        data = yaml.load(text, Loader=ExactLoader)
    except yaml.YAMLError as err:
        raise Rejected([Violation(source, "malformed-yaml", _yaml_problem(err))], source) from None
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise Rejected([Violation(
            source, "journal-shape",
            "a journal is a mapping with 'issuer: <id>' and 'entries:' followed by a list",
        )], source)
    issuer = data.get("issuer")
    problems: list[Violation] = []
    unknown_keys = sorted(set(data) - {"issuer", "entries", "description"})
    if unknown_keys:
        problems.append(Violation(source, "journal-shape", f"unknown top-level keys: {unknown_keys}"))
    if not isinstance(issuer, str) or not issuer.strip():
        problems.append(Violation(source, "journal-shape", "missing 'issuer: <id>' at the top"))
    entries: list[AnyEntry] = []
    for index, raw in enumerate(data["entries"], start=1):
        try:
            entries.append(parse_entry(raw))
        except ValidationError as err:
            problems.extend(_entry_problems(index, raw, err))
    if problems:
        raise Rejected(problems, source)
    return Journal(str(issuer).strip(), entries, source)


def _yaml_problem(err: yaml.YAMLError) -> str:
    mark = getattr(err, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    problem = getattr(err, "problem", None) or str(err)
    return f"{where}{problem}"


def _entry_problems(index: int, raw: Any, err: ValidationError) -> list[Violation]:
    ident = raw.get("id") if isinstance(raw, dict) else None
    name = str(ident) if ident else f"#{index}"
    where = f"entry #{index} of the journal"
    if isinstance(raw, dict) and raw.get("type") not in ENTRY_TYPES:
        return [Violation(name, "unknown-type", f"{where}: type {raw.get('type')!r} is not one "
                          f"of: {', '.join(ENTRY_TYPES)}")]
    odd_keys = [k for k in raw if not isinstance(k, str)] if isinstance(raw, dict) else []
    if odd_keys:
        return [Violation(name, "journal-shape", f"{where} has keys that are not field names "
                          f"({', '.join(map(str, odd_keys))}): inside {{...}} a comma ends the value, "
                          "so write grouped numbers in quotes, e.g. '1,000,013'")]
    problems = []
    for detail in err.errors():
        # Drop the union's discriminator from the location: "SharesPurchased.quantity" -> "quantity".
        field = ".".join(str(p) for p in detail["loc"][1:]) or "(entry)"
        message = detail["msg"].removeprefix("Value error, ")
        shown = "" if detail["type"] in ("missing", "value_error") else f" (got {_show(detail['input'])})"
        problems.append(Violation(name, "invalid-field", f"{where}, {field}: {message}{shown}"))
    return problems


def _show(value: Any) -> str:
    text = str(value) if isinstance(value, (Decimal, int)) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
