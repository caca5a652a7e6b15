"""Validation against the OCF JSON Schemas shipped in ``ledger/ocf/json_schemas`` (no network).

Each object is validated on its own against the schema of its ``object_type``, so a problem
names the object (type and id) and the field, rather than the whole file's ``oneOf``. The
manifest's ``ocf_version`` is checked separately: any 1.x version is accepted (real files
carry values such as ``1.1.1-alpha+main``), and the rest of the manifest is validated against
the shipped schema.

Fields a schema does not know (``additionalProperties``) are reported as warnings, not
errors: OCF 1.x versions add and drop optional fields (1.1 files carry ``valuation_id`` and
``split_transaction_id`` where 1.2 has none), and an unknown field is ignored, never guessed at.
Every other schema violation is an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

SCHEMA_DIR = Path(__file__).resolve().parent / "json_schemas"
OCF_VERSION_1X = re.compile(r"^1\.\d+(\.\d+)?(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
MAX_MESSAGE = 240


@dataclass(frozen=True)
class Schemas:
    registry: Registry[Any]
    by_object_type: dict[str, str]
    by_file_type: dict[str, str]
    ocf_version: str


def _constants(node: dict[str, Any] | None) -> list[str]:
    if not isinstance(node, dict):
        return []
    if "const" in node:
        return [node["const"]]
    return [v for v in node.get("enum", []) if isinstance(v, str)]


@cache
def schemas() -> Schemas:
    resources: list[tuple[str, Resource[Any]]] = []
    by_object: dict[str, str] = {}
    by_file: dict[str, str] = {}
    version = ""
    for path in sorted(SCHEMA_DIR.rglob("*.schema.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        ident = contents["$id"]
        resources.append((ident, Resource.from_contents(contents, default_specification=DRAFT7)))
        props = contents.get("properties", {})
        if "/schema/objects/" in ident:
            for object_type in _constants(props.get("object_type")):
                by_object.setdefault(object_type, ident)
        if "/schema/files/" in ident:
            for file_type in _constants(props.get("file_type")):
                by_file[file_type] = ident
            version = _constants(props.get("ocf_version"))[0] if "ocf_version" in props else version
    return Schemas(Registry().with_resources(resources), by_object, by_file, version)


@cache
def _validator(schema_id: str) -> Draft7Validator:
    s = schemas()
    return Draft7Validator(s.registry.contents(schema_id), registry=s.registry)


@dataclass(frozen=True)
class Findings:
    problems: list[str]
    warnings: list[str]


def _findings(errors: Iterator[ValidationError]) -> Findings:
    found = Findings([], [])
    for error in sorted(errors, key=lambda e: list(map(str, e.absolute_path))):
        where = ".".join(str(p) for p in error.absolute_path) or "(object)"
        message = error.message if len(error.message) <= MAX_MESSAGE else error.message[:MAX_MESSAGE] + "..."
        if error.validator == "additionalProperties":
            found.warnings.append(f"{where}: {message}; ignored")
        else:
            found.problems.append(f"{where}: {message}")
    return found


def check_object(obj: Any) -> Findings:
    """What is wrong with one OCF object (an issuer, stakeholder, class or transaction)."""
    if not isinstance(obj, dict):
        return Findings([f"(object): expected a JSON object, got {type(obj).__name__}"], [])
    object_type = obj.get("object_type")
    schema_id = schemas().by_object_type.get(str(object_type))
    if schema_id is None:
        return Findings([f"object_type: {object_type!r} is not an OCF object type"], [])
    return _findings(_validator(schema_id).iter_errors(obj))


def check_file(data: Any, file_type: str) -> Findings:
    """The envelope of an OCF file (everything but its ``items``, which are validated one by
    one with ``object_problems``)."""
    if not isinstance(data, dict):
        return Findings([f"(file): expected a JSON object, got {type(data).__name__}"], [])
    if data.get("file_type") != file_type:
        return Findings([f"file_type: expected {file_type!r}, got {data.get('file_type')!r}"], [])
    if file_type == "OCF_MANIFEST_FILE":
        return check_manifest(data)
    envelope = {**data, "items": []}
    found = _findings(_validator(schemas().by_file_type[file_type]).iter_errors(envelope))
    if not isinstance(data.get("items"), list):
        found.problems.append("items: expected a list of OCF objects")
    return found


def check_manifest(manifest: dict[str, Any]) -> Findings:
    version = manifest.get("ocf_version")
    checked = {**manifest, "ocf_version": schemas().ocf_version}
    found = _findings(_validator(schemas().by_file_type["OCF_MANIFEST_FILE"]).iter_errors(checked))
    if not isinstance(version, str) or not OCF_VERSION_1X.match(version):
        found.problems.insert(0, f"ocf_version: {version!r} is not an OCF 1.x version (e.g. 1.2.0)")
    return found
