"""The agent documents are true and complete.

True: every call they show names a real operation, only its fields (checked against
tool-schema.json), all of its required fields unless elided with `...`, and only real purposes;
and no sentence claims that something the tool does is missing. Complete: the operator document
shows every registered operation as a call and every feature switch the multi-container work
needs, and the context document's table lists every operation.
"""

from __future__ import annotations

import json
import re

import pytest

from containers_tool.handlers import OPERATIONS
from containers_tool.schema import build_schema
from tests.conftest import REPO

DOCS = sorted((REPO / "agents").glob("*.md"))
OPERATOR = REPO / "agents" / "container-operator.md"
CONTEXT = REPO / "agents" / "context.md"
# `op(field=..., other=...)`, the syntax the documents use for every call they show.
CALL = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)\(([^`]*)\)`")
FIELD = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*=")
STRING = re.compile(r""""[^"]*"|'[^']*'""")
OPERATION_VALUE = re.compile(r"""operation\s*=\s*["']([A-Za-z_]+)["']""")
PURPOSE_VALUE = re.compile(r"""\bpurpose\s*=\s*["']([^"']+)["']""")
TABLE_ROW = re.compile(r"^\|\s*(`[^|]+)\|[^|]*\|([^|]*)\|\s*$")
TICKED = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)`")
ELIDED = ("...", "…")
# Sentences that say a feature is missing, or point at a workaround for one. The tool's
# documents describe what it does; a gap belongs in an issue, not in an agent's prompt.
MISSING_FEATURE = re.compile(
    r"\bnot yet\b|\byet\)|\bcoming soon\b|\bTODO\b|\bworkaround\b|\bunsupported\b"
    r"|\bnot (?:supported|available|implemented)\b"
    r"|\b(?:does|do|can)(?: not|n't) (?:support|handle|do)\b"
    r"|\b(?:has|have|offers?|there (?:is|are)) no [\w-]+(?: or [\w-]+)? "
    r"(?:operations?|support|tools?|feature)\b",
    re.IGNORECASE,
)
# The create/exec switches the multi-container operator is about; each must
# appear in at least one call the operator document shows, so its name is checked too.
OPERATOR_SWITCHES = {
    "create": {
        "compose_content",
        "compose_file",
        "compose_project",
        "keep_command",
        "network",
        "persistent",
        "ports",
        "purpose",
        "session_id",
        "session_network",
    },
    "exec": {"session", "timeout"},
    "exec_poll": {"offset", "wait"},
    "wait_healthy": {"port", "url"},
}


def _schema_rules() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    schema = json.loads((REPO / "tool-schema.json").read_text(encoding="utf-8"))
    allowed: dict[str, set[str]] = {}
    required: dict[str, set[str]] = {}
    for rule in schema["allOf"]:
        op = rule["if"]["properties"]["operation"]["const"]
        allowed[op] = set(rule["then"]["propertyNames"]["enum"])
        required[op] = set(rule["then"].get("required", []))
    assert set(allowed) == set(schema["properties"]["operation"]["enum"])
    return allowed, required


ALLOWED, REQUIRED = _schema_rules()
build_schema()  # imports every handler module, which registers its operations
PURPOSES = {p.stem for p in (REPO / "purposes").glob("*.yaml")}


def _families() -> dict[str, set[str]]:
    """Operation families: the handler module each registered operation lives in."""
    families: dict[str, set[str]] = {}
    for name, spec in OPERATIONS.items():
        family = spec.handler.__module__.rsplit(".", 1)[-1]
        families.setdefault(family, set()).add(name)
    return families


def _calls(text: str) -> list[tuple[str, list[str], str]]:
    """Returns (operation, fields, raw arguments) of every call shown in `text`."""
    calls = []
    for name, inner in CALL.findall(text):
        # Text inside string values ("export A=1") is not a field.
        fields = FIELD.findall(STRING.sub('""', inner))
        if name == "containers":  # the tool itself: containers(operation="exec", ...)
            named = OPERATION_VALUE.search(inner)
            if named is None:
                continue  # the generic form, containers(operation=..., <fields>)
            name = named.group(1)
        calls.append((name, [f for f in fields if f != "operation"], inner))
    return calls


def _tabled(text: str) -> set[str]:
    return {
        op
        for line in text.splitlines()
        if (row := TABLE_ROW.match(line))
        for op in TICKED.findall(row.group(1))
    }


def test_agent_documents_exist():
    names = {doc.name for doc in DOCS}
    assert {"container-operator.md", "context.md"} <= names


def test_registry_and_schema_agree():
    # The completeness checks below read the registry; the field checks read the schema.
    assert set(OPERATIONS) == set(ALLOWED)


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_every_call_in_agent_docs_names_a_real_operation_and_its_fields(doc):
    calls = _calls(doc.read_text(encoding="utf-8"))
    assert calls, f"{doc.name} shows no operation calls"
    for op, fields, inner in calls:
        assert op in ALLOWED, f"{doc.name}: `{op}(...)` is not an operation"
        unknown = sorted(set(fields) - ALLOWED[op])
        assert not unknown, f"{doc.name}: `{op}` takes no field(s) {unknown}"
        if not any(mark in inner for mark in ELIDED):
            missing = sorted(REQUIRED[op] - set(fields))
            assert not missing, f"{doc.name}: `{op}({inner})` lacks required {missing}"
        for purpose in PURPOSE_VALUE.findall(inner):
            assert purpose in PURPOSES, f"{doc.name}: no purpose {purpose!r}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_operations_table_rows_name_real_operations_and_fields(doc):
    for line in doc.read_text(encoding="utf-8").splitlines():
        row = TABLE_ROW.match(line)
        if row is None:
            continue
        ops = TICKED.findall(row.group(1))
        for op in ops:
            assert op in ALLOWED, f"{doc.name}: table names unknown operation {op!r}"
        fields = set(TICKED.findall(row.group(2)))
        accepted = set().union(*(ALLOWED[op] for op in ops))
        assert fields <= accepted, f"{doc.name}: {ops} take no {sorted(fields - accepted)}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_agent_docs_never_claim_a_feature_is_missing(doc):
    text = " ".join(doc.read_text(encoding="utf-8").split())  # a claim may span lines
    claims = [m.group(0) for m in MISSING_FEATURE.finditer(text)]
    assert not claims, f"{doc.name} claims something is missing: {claims}"


def test_operator_shows_every_operation_of_every_family_as_a_call():
    shown = {op for op, _, _ in _calls(OPERATOR.read_text(encoding="utf-8"))}
    gaps = {
        family: sorted(ops - shown) for family, ops in sorted(_families().items()) if ops - shown
    }
    assert not gaps, f"container-operator.md never shows these operations: {gaps}"


def test_operator_shows_the_multi_container_switches():
    used: dict[str, set[str]] = {}
    for op, fields, _ in _calls(OPERATOR.read_text(encoding="utf-8")):
        used.setdefault(op, set()).update(fields)
    for op, switches in OPERATOR_SWITCHES.items():
        assert switches <= ALLOWED[op], f"{op} lost {sorted(switches - ALLOWED[op])}"
        missing = sorted(switches - used.get(op, set()))
        assert not missing, f"container-operator.md never shows `{op}` with {missing}"


def test_context_table_lists_every_operation():
    missing = sorted(set(OPERATIONS) - _tabled(CONTEXT.read_text(encoding="utf-8")))
    assert not missing, f"context.md's operations table lacks {missing}"


def test_the_doc_checker_rejects_unknown_operations_fields_and_missing_required_ones():
    # The checker itself: a made-up operation or field must be caught, not silently skipped.
    calls = _calls('`explode(x=1)` and `containers(operation="exec", colour="red")`')
    assert [(op, fields) for op, fields, _ in calls] == [("explode", ["x"]), ("exec", ["colour"])]
    assert "explode" not in ALLOWED
    assert "colour" not in ALLOWED["exec"]
    # `=` inside a string value is not a field; a call without a required field is caught.
    ((_, fields, _),) = _calls('`exec(container="a", command="export A=1")`')
    assert fields == ["container", "command"]
    assert REQUIRED["destroy"] - set(_calls("`destroy()`")[0][1]) == {"container"}


def test_the_doc_checker_catches_claims_of_missing_features():
    stale = (
        "the tool has no compose or workspace operations yet",
        "Compose is not yet supported.",
        "The tool does not support networks; as a workaround, ...",
    )
    for sentence in stale:
        assert MISSING_FEATURE.search(sentence), sentence
    for fine in ("no route out", "never sleep between polls", "has no `image`"):
        assert not MISSING_FEATURE.search(fine), fine
