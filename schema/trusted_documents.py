"""Trusted documents and persisted queries.

The trusted documents are the operations the three clients send (frontend-contract/operations), each exactly
as Apollo Client 4 sends it: with the fragments it uses, `__typename` added to every selection set below the
operation's root (Apollo's addTypenameToDocument), the operation first and its fragments after it by name
(sortTopLevelDefinitions of @apollo/persisted-query-lists), printed by graphql-js 16. `ordergraph export-schema`
writes them to frontend-contract/trusted-documents.json, byte for byte what Apollo's manifest generator
(@apollo/generate-persisted-query-manifest) writes, each known by the sha256 of its body.

Clients send a document's hash as Apollo's persisted-query extension,
`{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "…"}}}`, with or without its text. A hash the
manifest holds always stands for the manifest's document. Any other hash is an automatic persisted query
(Apollo's APQ): unknown, it is refused with PERSISTED_QUERY_NOT_FOUND, and the client sends it again with its
text, which registers it (in the PersistedQueryStore the server keeps: server/persisted_queries.py) once it has
passed the request limits and validation. With ORDERGRAPH_TRUSTED_DOCUMENTS_ONLY only the manifest's documents
run, by hash or by their exact text, and nothing is registered.
"""

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any, Protocol

from graphql import (
    ArgumentNode,
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    EnumValueNode,
    FieldNode,
    FloatValueNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    ListTypeNode,
    ListValueNode,
    NamedTypeNode,
    NameNode,
    NonNullTypeNode,
    NullValueNode,
    ObjectFieldNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    VariableDefinitionNode,
    VariableNode,
    parse,
    print_ast,
)
from graphql.language import Node, Visitor, visit

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


def _spreads(node: Node) -> set[str]:
    visitor = _Spreads()
    visit(node, visitor)
    return visitor.names


@dataclass(frozen=True, slots=True)
class ContractOperation:
    kind: str  # query, mutation or subscription
    operation: OperationDefinitionNode
    fragments: tuple[FragmentDefinitionNode, ...]  # the fragments it uses, transitively, by name


@cache
def contract_operations(directory: Traversable = OPERATIONS) -> dict[str, ContractOperation]:
    """Operation name -> the operation and the fragments it uses, from every file of the contract."""
    operations: dict[str, OperationDefinitionNode] = {}
    fragments: dict[str, FragmentDefinitionNode] = {}
    for path in sorted((p for p in directory.iterdir() if p.name.endswith(".graphql")), key=lambda p: p.name):
        for definition in parse(path.read_text(), no_location=True).definitions:
            if isinstance(definition, OperationDefinitionNode):
                assert definition.name is not None, f"an anonymous operation in {path.name}"
                operations[definition.name.value] = definition
            elif isinstance(definition, FragmentDefinitionNode):
                fragments[definition.name.value] = definition
    found = {}
    for name, operation in sorted(operations.items()):
        needed: set[str] = set()
        todo = _spreads(operation)
        while todo:
            fragment = todo.pop()
            if fragment not in needed:
                needed.add(fragment)
                todo |= _spreads(fragments[fragment])
        found[name] = ContractOperation(
            operation.operation.value, operation, tuple(fragments[f] for f in sorted(needed))
        )
    return found


@cache
def contract_documents(directory: Traversable = OPERATIONS) -> dict[str, tuple[str, str]]:
    """Operation name -> (operation type, the operation and the fragments it uses as written, printed by
    graphql-core). What the server's own tests and benchmarks send; the clients send persisted_documents()."""
    return {
        name: (found.kind, "\n\n".join(print_ast(d) for d in [found.operation, *found.fragments]))
        for name, found in contract_operations(directory).items()
    }


@cache
def persisted_documents(directory: Traversable = OPERATIONS) -> dict[str, tuple[str, str]]:
    """Operation name -> (operation type, the document exactly as Apollo Client 4 sends it): the manifest's
    bodies."""
    return {
        name: (found.kind, apollo_document(found.operation, found.fragments))
        for name, found in contract_operations(directory).items()
    }


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def manifest_json() -> str:
    """The manifest `export-schema` writes: Apollo's persisted-query manifest (version 1), formatted as its
    generator writes it (JSON.stringify(manifest, null, 2), no newline at the end), operations by name."""
    operations = [
        {"id": sha256(body), "name": name, "type": kind, "body": body}
        for name, (kind, body) in sorted(persisted_documents().items())
    ]
    manifest = {"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}
    return json.dumps(manifest, indent=2, ensure_ascii=False)


# What Apollo Client 4 sends -------------------------------------------------------------------------------------

# Directives Apollo Client removes (or whose fields it removes) before it sends a document: a contract operation
# using one would be sent as another text than this module computes.
APOLLO_CLIENT_DIRECTIVES = frozenset({"client", "connection", "nonreactive", "unmask", "export"})

TYPENAME = FieldNode(name=NameNode(value="__typename"), arguments=(), directives=())


class _AddTypename(Visitor):
    """Apollo Client's addTypenameToDocument (src/utilities/graphql/transform.ts): `__typename` appended to
    every selection set, except an operation's own, one that already selects a field named `__…`, and one of
    a field marked @export."""

    def enter_selection_set(self, node: SelectionSetNode, _key: object, parent: object, *_args: object) -> object:
        if isinstance(parent, OperationDefinitionNode):
            return None
        if any(isinstance(s, FieldNode) and s.name.value.startswith("__") for s in node.selections):
            return None
        if isinstance(parent, FieldNode) and any(d.name.value == "export" for d in parent.directives or ()):
            return None
        return SelectionSetNode(selections=(*node.selections, TYPENAME))


class _ClientDirectives(Visitor):
    def enter_directive(self, node: DirectiveNode, *_args: object) -> None:
        if node.name.value in APOLLO_CLIENT_DIRECTIVES:
            raise ValueError(f"@{node.name.value} is Apollo Client's own: it does not send the document as written")


def add_typename(document: DocumentNode) -> DocumentNode:
    return visit(document, _AddTypename())


def apollo_document(operation: OperationDefinitionNode, fragments: Iterable[FragmentDefinitionNode]) -> str:
    """The text Apollo Client 4 sends for `operation` given the fragments it uses (its InMemoryCache's fragment
    registry adds those): `__typename` added, the operation first and the fragments by name, printed as
    graphql-js 16 prints. Apollo's manifest generator writes the same text, and its id is the text's sha256."""
    document = DocumentNode(definitions=(operation, *sorted(fragments, key=lambda f: f.name.value)))
    visit(document, _ClientDirectives())
    return print_graphql_js(add_typename(document))


# graphql-js 16's printer (src/language/printer.ts), which differs from graphql-core's print_ast (an object value
# is {a: 1} there, { a: 1 } here), for executable documents.

MAX_LINE_LENGTH = 80


def _js_length(text: str) -> int:
    """A string's length as JavaScript counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _join(items: Iterable[str | None], separator: str = "") -> str:
    return separator.join(item for item in items if item)


def _wrap(start: str, inner: str | None, end: str = "") -> str:
    return f"{start}{inner}{end}" if inner else ""


def _indent(text: str) -> str:
    return "  " + text.replace("\n", "\n  ") if text else ""


def _block(items: Iterable[str]) -> str:
    return _wrap("{\n", _indent(_join(items, "\n")), "\n}")


def _many(nodes: Iterable[Node] | None) -> list[str]:
    return [print_graphql_js(node) for node in nodes or ()]


def _one(node: Node | None) -> str:
    return print_graphql_js(node) if node is not None else ""


_ESCAPED = re.compile(r'[\x00-\x1f"\\\x7f-\x9f]')
_SHORT_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}


def _print_string(value: str) -> str:
    return '"' + _ESCAPED.sub(lambda m: _SHORT_ESCAPES.get(m[0]) or f"\\u{ord(m[0]):04X}", value) + '"'


def _print_block_string(value: str) -> str:
    escaped = value.replace('"""', '\\"""')
    lines = re.split(r"\r\n|[\n\r]", escaped)
    single_line = len(lines) == 1
    force_leading_newline = len(lines) > 1 and all(not line or line[0] in " \t" for line in lines[1:])
    trailing_triple_quotes = escaped.endswith('\\"""')
    force_trailing_newline = (value.endswith('"') and not trailing_triple_quotes) or value.endswith("\\")
    multiple_lines = (
        not single_line
        or _js_length(value) > 70
        or force_trailing_newline
        or force_leading_newline
        or trailing_triple_quotes
    )
    skip_leading_newline = single_line and value[:1] in (" ", "\t")
    result = "\n" if (multiple_lines and not skip_leading_newline) or force_leading_newline else ""
    result += escaped
    if multiple_lines or force_trailing_newline:
        result += "\n"
    return '"""' + result + '"""'


def _operation(node: OperationDefinitionNode) -> str:
    variables = _many(node.variable_definitions)
    variables_text = (
        _wrap("(\n", _join(variables, "\n"), "\n)")
        if any("\n" in v for v in variables)
        else _wrap("(", _join(variables, ", "), ")")
    )
    kind = node.operation.value
    prefix = _join(
        [
            _wrap("", _one(node.description), "\n"),
            _join([kind, _join([_one(node.name), variables_text]), _join(_many(node.directives), " ")], " "),
        ]
    )
    # An anonymous query without variables or directives is printed in the short form.
    short = kind == "query" and _js_length(prefix) == len(kind)
    return _join(["" if short else prefix + " ", _one(node.selection_set)])


def _field(node: FieldNode) -> str:
    prefix = _join([_wrap("", _one(node.alias), ": "), _one(node.name)])
    arguments = _many(node.arguments)
    if arguments:
        length = _js_length(prefix) + sum(_js_length(a) for a in arguments) + 2 * (len(arguments) - 1) + 2
        prefix += (
            _wrap("(\n", _indent(_join(arguments, "\n")), "\n)")
            if length > MAX_LINE_LENGTH
            else _wrap("(", _join(arguments, ", "), ")")
        )
    return _join([prefix, _wrap(" ", _join(_many(node.directives), " ")), _wrap(" ", _one(node.selection_set))])


def _fragment_definition(node: FragmentDefinitionNode) -> str:
    return _join(
        [
            _wrap("", _one(node.description), "\n"),
            "fragment ",
            _one(node.name),
            _wrap("(", _join(_many(node.variable_definitions), ", "), ")"),
            " on ",
            _one(node.type_condition),
            " ",
            _wrap("", _join(_many(node.directives), " "), " "),
            _one(node.selection_set),
        ]
    )


_PRINTERS: dict[type[Node], Callable[[Any], str]] = {
    NameNode: lambda n: n.value,
    VariableNode: lambda n: "$" + n.name.value,
    DocumentNode: lambda n: _join(_many(n.definitions), "\n\n"),
    OperationDefinitionNode: _operation,
    VariableDefinitionNode: lambda n: _join(
        [
            _wrap("", _one(n.description), "\n"),
            _one(n.variable),
            ": ",
            _one(n.type),
            _wrap(" = ", _one(n.default_value)),
            _wrap(" ", _join(_many(n.directives), " ")),
        ]
    ),
    SelectionSetNode: lambda n: _block(_many(n.selections)),
    FieldNode: _field,
    ArgumentNode: lambda n: _join([_one(n.name), ": ", _one(n.value)]),
    FragmentSpreadNode: lambda n: _join(["...", _one(n.name), _wrap(" ", _join(_many(n.directives), " "))]),
    InlineFragmentNode: lambda n: _join(
        ["...", _wrap("on ", _one(n.type_condition)), _join(_many(n.directives), " "), _one(n.selection_set)], " "
    ),
    FragmentDefinitionNode: _fragment_definition,
    IntValueNode: lambda n: n.value,
    FloatValueNode: lambda n: n.value,
    StringValueNode: lambda n: _print_block_string(n.value) if n.block else _print_string(n.value),
    BooleanValueNode: lambda n: "true" if n.value else "false",
    NullValueNode: lambda n: "null",
    EnumValueNode: lambda n: n.value,
    ListValueNode: lambda n: "[" + _join(_many(n.values), ", ") + "]",
    ObjectValueNode: lambda n: "{" + _join(_many(n.fields), ", ") + "}",
    ObjectFieldNode: lambda n: _join([_one(n.name), ": ", _one(n.value)]),
    DirectiveNode: lambda n: _join(["@", _one(n.name), _wrap("(", _join(_many(n.arguments), ", "), ")")]),
    NamedTypeNode: lambda n: _one(n.name),
    ListTypeNode: lambda n: "[" + _one(n.type) + "]",
    NonNullTypeNode: lambda n: _one(n.type) + "!",
}


def print_graphql_js(node: Node) -> str:
    """An executable document (or a part of one) as graphql-js 16's `print` prints it."""
    printer = _PRINTERS.get(type(node))
    if printer is None:
        raise TypeError(f"cannot print {type(node).__name__} as graphql-js does")
    return printer(node)


# Resolving a request's document ---------------------------------------------------------------------------------

SHA256_HEX = re.compile(r"[0-9a-f]{64}")

# Apollo Client's PersistedQueryLink sends the query again when an error has this message or this code.
NOT_FOUND_MESSAGE = "PersistedQueryNotFound"


class PersistedQueryStore(Protocol):
    """Automatic persisted queries the clients registered, by the sha256 of their text
    (server/persisted_queries.py keeps them). Neither method raises: a store that cannot be reached finds
    nothing and keeps nothing."""

    async def get(self, digest: str) -> str | None: ...

    async def put(self, digest: str, document: str) -> None: ...


class UntrustedDocument(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Resolved:
    document: str | None  # the text to run (None: the request has none)
    register: str | None = None  # the hash to register it under once it has passed the limits and validation


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

    async def resolve(
        self, query: str | None, extensions: Mapping[str, Any] | None, registered: PersistedQueryStore | None
    ) -> Resolved:
        """The document to run for a request's `query` and `extensions`, or UntrustedDocument. `registered`:
        the automatic persisted queries (None: none are kept)."""
        persisted = (extensions or {}).get("persistedQuery")
        if not isinstance(persisted, Mapping):
            if self.required and (not query or sha256(query) not in self.by_hash):
                raise UntrustedDocument(
                    "UNTRUSTED_DOCUMENT",
                    "Only the clients' trusted documents are accepted: send the "
                    "persistedQuery extension with the document's sha256Hash.",
                )
            return Resolved(query)
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str) or not SHA256_HEX.fullmatch(digest):
            raise UntrustedDocument("PERSISTED_QUERY_NOT_FOUND", NOT_FOUND_MESSAGE)
        if query:
            if sha256(query) != digest:
                raise UntrustedDocument("PERSISTED_QUERY_MISMATCH", "The query's sha256 is not its sha256Hash.")
            if digest in self.by_hash:
                return Resolved(self.by_hash[digest])
            if self.required or registered is None:
                raise UntrustedDocument(
                    "UNTRUSTED_DOCUMENT", "Only the clients' trusted documents are accepted: no other is registered."
                )
            return Resolved(query, register=digest)
        # A hash alone: the manifest's document always wins over one registered under the same hash.
        if digest in self.by_hash:
            return Resolved(self.by_hash[digest])
        document = None if self.required or registered is None else await registered.get(digest)
        if document is None or sha256(document) != digest:
            raise UntrustedDocument("PERSISTED_QUERY_NOT_FOUND", NOT_FOUND_MESSAGE)
        return Resolved(document)
