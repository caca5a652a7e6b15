"""Reading and writing OCF packages: a folder, a ``.ocf.zip`` or a manifest file.

A package is a manifest (``file_type`` OCF_MANIFEST_FILE) that lists the files holding its
objects (``stakeholders_files``, ``transactions_files``, ...), each by a path relative to the
manifest. Reading checks every file's JSON and schema; every problem is collected and raised
at once as ``Rejected``. Checksums that do not match are warnings: real packages carry
placeholder md5 values.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ledger.errors import Rejected, Violation
from ledger.ocf.schema import check_file, check_object

MANIFEST_FILE_TYPE = "OCF_MANIFEST_FILE"
# Manifest list -> the file_type its files must have.
FILE_LISTS: dict[str, str] = {
    "stakeholders_files": "OCF_STAKEHOLDERS_FILE",
    "stock_classes_files": "OCF_STOCK_CLASSES_FILE",
    "stock_plans_files": "OCF_STOCK_PLANS_FILE",
    "stock_legend_templates_files": "OCF_STOCK_LEGEND_TEMPLATES_FILE",
    "vesting_terms_files": "OCF_VESTING_TERMS_FILE",
    "valuations_files": "OCF_VALUATIONS_FILE",
    "transactions_files": "OCF_TRANSACTIONS_FILE",
    "financings_files": "OCF_FINANCINGS_FILE",
    "documents_files": "OCF_DOCUMENTS_FILE",
}


@dataclass(frozen=True)
class OcfObject:
    """One object of a package and where it was found."""

    data: dict[str, Any]
    file: str
    index: int

    @property
    def id(self) -> str:
        return str(self.data.get("id", f"{self.file}#{self.index}"))

    @property
    def object_type(self) -> str:
        return str(self.data.get("object_type"))

    def __str__(self) -> str:
        return f"{self.object_type} {self.id}"


@dataclass
class OcfPackage:
    source: str
    manifest_name: str
    manifest: dict[str, Any]
    objects: list[OcfObject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def issuer(self) -> dict[str, Any]:
        issuer = self.manifest.get("issuer")
        return issuer if isinstance(issuer, dict) else {}

    def of_file_type(self, file_type: str) -> list[OcfObject]:
        wanted = {name for name, kind in FILE_LISTS.items() if kind == file_type}
        return [o for o in self.objects if o.file.split("#", 1)[0] in wanted]


class _Source:
    """Files of a folder or of a zip archive, by posix path relative to its root."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zip = zipfile.ZipFile(path) if path.is_file() and zipfile.is_zipfile(path) else None

    def names(self) -> list[str]:
        if self.zip is not None:
            return [n for n in self.zip.namelist() if not n.endswith("/")]
        root = self.path if self.path.is_dir() else self.path.parent
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())

    def read(self, name: str) -> bytes:
        if self.zip is not None:
            return self.zip.read(name)
        root = self.path if self.path.is_dir() else self.path.parent
        return (root / name).read_bytes()


def _parse_json(raw: bytes, name: str, problems: list[Violation]) -> Any:
    try:
        # Numbers are kept exact: a JSON number becomes a Decimal, never a float.
        return json.loads(raw.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        problems.append(Violation(name, "ocf-malformed-json", f"{name} is not valid JSON: {err}"))
        return None


def _find_manifest(source: _Source, problems: list[Violation]) -> str | None:
    if source.zip is None and source.path.is_file():
        return source.path.name
    candidates = [n for n in source.names() if n.lower().endswith(".json")]
    named = [n for n in candidates if posixpath.basename(n).lower() in ("manifest.ocf.json", "manifest.json")]
    for name in named + [n for n in candidates if n not in named]:
        try:
            data = json.loads(source.read(name).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(data, dict) and data.get("file_type") == MANIFEST_FILE_TYPE:
            return name
    problems.append(Violation(str(source.path), "ocf-no-manifest",
                              f"{source.path} holds no OCF manifest (a JSON file with file_type "
                              f"{MANIFEST_FILE_TYPE})"))
    return None


def read_package(path: Path) -> OcfPackage:
    """Read and schema-check a package; raises ``Rejected`` listing every problem."""
    if not path.exists():
        raise Rejected([Violation(str(path), "ocf-not-found", f"{path} does not exist")], "OCF package")
    problems: list[Violation] = []
    try:
        source = _Source(path)
    except (OSError, zipfile.BadZipFile) as err:
        raise Rejected([Violation(str(path), "ocf-unreadable", str(err))], "OCF package") from None
    name = _find_manifest(source, problems)
    if name is None:
        raise Rejected(problems, "OCF package")
    manifest = _parse_json(source.read(name), name, problems)
    if manifest is None:
        raise Rejected(problems, "OCF package")
    package = OcfPackage(str(path), posixpath.basename(name), manifest)
    findings = check_file(manifest, MANIFEST_FILE_TYPE)
    problems += [Violation(name, "ocf-schema", f"manifest {m}") for m in findings.problems]
    package.warnings += [f"manifest {m}" for m in findings.warnings]
    issuer = manifest.get("issuer")
    if isinstance(issuer, dict):
        package.objects.append(OcfObject(issuer, "manifest", 0))
    base = posixpath.dirname(name)
    for listing, file_type in FILE_LISTS.items():
        refs = manifest.get(listing) or []
        for ref in refs if isinstance(refs, list) else []:
            if isinstance(ref, dict) and isinstance(ref.get("filepath"), str):
                _read_listed(source, base, listing, file_type, ref, package, problems)
    if problems:
        raise Rejected(problems, "OCF package")
    return package


def _read_listed(source: _Source, base: str, listing: str, file_type: str, ref: dict[str, Any],
                 package: OcfPackage, problems: list[Violation]) -> None:
    filepath = posixpath.normpath(posixpath.join(base, ref["filepath"]))
    try:
        raw = source.read(filepath)
    except (OSError, KeyError):
        problems.append(Violation(ref["filepath"], "ocf-missing-file",
                                  f"the manifest lists {ref['filepath']!r} in {listing}, but the "
                                  "package has no such file"))
        return
    if ref.get("md5") and hashlib.md5(raw).hexdigest() != ref["md5"]:
        package.warnings.append(f"{filepath}: md5 {hashlib.md5(raw).hexdigest()} does not match the "
                                f"manifest's {ref['md5']} (file read anyway)")
    data = _parse_json(raw, filepath, problems)
    if data is None:
        return
    findings = check_file(data, file_type)
    problems.extend(Violation(filepath, "ocf-schema", f"{filepath} {m}") for m in findings.problems)
    package.warnings.extend(f"{filepath} {m}" for m in findings.warnings)
    items = data.get("items") if isinstance(data, dict) else None
    for index, item in enumerate(items if isinstance(items, list) else []):
        obj = OcfObject(item if isinstance(item, dict) else {}, f"{listing}#{filepath}", index)
        found = check_object(item)
        label = f"{obj} ({filepath} item {index + 1})"
        problems.extend(Violation(obj.id, "ocf-schema", f"{label}: {m}") for m in found.problems)
        package.warnings.extend(f"{label}: {m}" for m in found.warnings)
        if isinstance(item, dict):
            package.objects.append(obj)


def to_text(document: dict[str, Any]) -> str:
    """The exact text written for a document (its md5 goes in the manifest)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def write_package(out: Path, texts: dict[str, str]) -> None:
    """Write ``texts`` (file name -> JSON text) as a folder, or as a zip when ``out`` ends in
    ``.zip``. The documents must already be valid (see ``projections.ocf_export``)."""
    if out.name.endswith(".zip"):
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in texts.items():
                archive.writestr(name, text)
        return
    out.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (out / name).write_text(text, encoding="utf-8")
