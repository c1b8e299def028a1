"""The agent documents name only operations and fields that exist in tool-schema.json."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import REPO

DOCS = sorted((REPO / "agents").glob("*.md"))
# `op(field=..., other=...)`, the syntax the documents use for every call they show.
CALL = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)\(([^`]*)\)`")
FIELD = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*=")
OPERATION_VALUE = re.compile(r"""operation\s*=\s*["']([A-Za-z_]+)["']""")
TABLE_ROW = re.compile(r"^\|\s*(`[^|]+)\|[^|]*\|([^|]*)\|\s*$")
TICKED = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)`")


def _schema_rules() -> dict[str, set[str]]:
    schema = json.loads((REPO / "tool-schema.json").read_text(encoding="utf-8"))
    allowed: dict[str, set[str]] = {}
    for rule in schema["allOf"]:
        op = rule["if"]["properties"]["operation"]["const"]
        allowed[op] = set(rule["then"]["propertyNames"]["enum"])
    assert set(allowed) == set(schema["properties"]["operation"]["enum"])
    return allowed


ALLOWED = _schema_rules()


def _calls(text: str) -> list[tuple[str, list[str]]]:
    calls = []
    for name, inner in CALL.findall(text):
        fields = FIELD.findall(inner)
        if name == "containers":  # the tool itself: containers(operation="exec", ...)
            named = OPERATION_VALUE.search(inner)
            if named is None:
                continue  # the generic form, containers(operation=..., <fields>)
            name = named.group(1)
        calls.append((name, [f for f in fields if f != "operation"]))
    return calls


def test_agent_documents_exist():
    names = {doc.name for doc in DOCS}
    assert {"container-operator.md", "context.md"} <= names


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_every_call_in_agent_docs_names_a_real_operation_and_its_fields(doc):
    calls = _calls(doc.read_text(encoding="utf-8"))
    assert calls, f"{doc.name} shows no operation calls"
    for op, fields in calls:
        assert op in ALLOWED, f"{doc.name}: `{op}(...)` is not an operation"
        unknown = sorted(set(fields) - ALLOWED[op])
        assert not unknown, f"{doc.name}: `{op}` takes no field(s) {unknown}"


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


def test_context_table_covers_the_operations_it_is_about():
    text = (REPO / "agents" / "context.md").read_text(encoding="utf-8")
    tabled = {
        op
        for line in text.splitlines()
        if (row := TABLE_ROW.match(line))
        for op in TICKED.findall(row.group(1))
    }
    for core in ("preflight", "create", "exec", "destroy", "exec_interactive_hint"):
        assert core in tabled


def test_the_doc_checker_rejects_unknown_operations_and_fields():
    # The checker itself: a made-up operation or field must be caught, not silently skipped.
    calls = _calls('`explode(x=1)` and `containers(operation="exec", colour="red")`')
    assert calls == [("explode", ["x"]), ("exec", ["colour"])]
    assert "explode" not in ALLOWED
    assert "colour" not in ALLOWED["exec"]
