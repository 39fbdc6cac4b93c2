"""Trusted documents: the operations the three clients send (frontend-contract/operations), each with exactly
the fragments it uses, known by the sha256 of its text.

`ordergraph export-schema` writes them to frontend-contract/trusted-documents.json in Apollo's persisted-query
manifest format. Clients send a document's hash as Apollo's persisted-query extension,
`{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "…"}}}`, with or without its text; with
ORDERGRAPH_TRUSTED_DOCUMENTS_ONLY no other document runs.
"""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse, print_ast
from graphql.language import FragmentSpreadNode, Visitor, visit

# The contract is package data (`ordergraph.contract`): the checkout's frontend-contract/ or its installed copy.
CONTRACT: Traversable = files("ordergraph.contract")
OPERATIONS = CONTRACT / "operations"
MANIFEST = CONTRACT / "trusted-documents.json"


class _Spreads(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_args: object) -> None:
        self.names.add(node.name.value)


def _spreads(node: object) -> set[str]:
    visitor = _Spreads()
    visit(node, visitor)
    return visitor.names


@cache
def contract_documents(directory: Traversable = OPERATIONS) -> dict[str, tuple[str, str]]:
    """Operation name -> (operation type, the document a client sends: the operation and the fragments it
    uses, transitively)."""
    operations: dict[str, OperationDefinitionNode] = {}
    fragments: dict[str, FragmentDefinitionNode] = {}
    for path in sorted((p for p in directory.iterdir() if p.name.endswith(".graphql")), key=lambda p: p.name):
        for definition in parse(path.read_text()).definitions:
            if isinstance(definition, OperationDefinitionNode):
                operations[definition.name.value] = definition
            elif isinstance(definition, FragmentDefinitionNode):
                fragments[definition.name.value] = definition
    documents = {}
    for name, operation in sorted(operations.items()):
        needed, todo = set(), _spreads(operation)
        while todo:
            fragment = todo.pop()
            if fragment not in needed:
                needed.add(fragment)
                todo |= _spreads(fragments[fragment])
        text = "\n\n".join(print_ast(d) for d in [operation, *(fragments[f] for f in sorted(needed))])
        documents[name] = (operation.operation.value, text)
    return documents


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def manifest_json() -> str:
    """The manifest `export-schema` writes (Apollo's persisted-query manifest, version 1)."""
    operations = [
        {"id": sha256(text), "name": name, "type": kind, "body": text}
        for name, (kind, text) in contract_documents().items()
    ]
    return (
        json.dumps({"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}, indent=2)
        + "\n"
    )


class UntrustedDocument(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class TrustedDocuments:
    by_hash: Mapping[str, str]
    # Only documents in the manifest run; otherwise any document may, and a known hash stands for its text.
    required: bool

    @classmethod
    def load(cls, *, required: bool, path: Traversable = MANIFEST) -> "TrustedDocuments":
        """The manifest beside the source; an installation without it accepts no hashes (and, when only trusted
        documents may run, does not start)."""
        if not path.is_file() and not required:
            return cls({}, required)
        manifest = json.loads(path.read_text())
        return cls({operation["id"]: operation["body"] for operation in manifest["operations"]}, required)

    def resolve(self, query: str | None, extensions: Mapping[str, Any] | None) -> str | None:
        """The document to run for a request's `query` and `extensions`, or UntrustedDocument."""
        persisted = (extensions or {}).get("persistedQuery")
        if isinstance(persisted, Mapping):
            digest = persisted.get("sha256Hash")
            document = self.by_hash.get(digest) if isinstance(digest, str) else None
            if document is None:
                raise UntrustedDocument("PERSISTED_QUERY_NOT_FOUND", "No trusted document has this sha256Hash.")
            if query and query != document:
                raise UntrustedDocument("PERSISTED_QUERY_MISMATCH", "The query is not the document of this sha256Hash.")
            return document
        if self.required and (not query or sha256(query) not in self.by_hash):
            raise UntrustedDocument(
                "UNTRUSTED_DOCUMENT",
                "Only the clients' trusted documents are accepted: send the "
                "persistedQuery extension with the document's sha256Hash.",
            )
        return query
