"""The client contract's operations (frontend-contract/operations), each as the document a client sends."""

from functools import cache
from pathlib import Path

from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse, print_ast
from graphql.language import FragmentSpreadNode, Visitor, visit

OPERATIONS = Path(__file__).resolve().parent.parent / "frontend-contract" / "operations"


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
def _definitions() -> tuple[dict[str, OperationDefinitionNode], dict[str, FragmentDefinitionNode]]:
    operations, fragments = {}, {}
    for path in sorted(OPERATIONS.glob("*.graphql")):
        for definition in parse(path.read_text()).definitions:
            if isinstance(definition, OperationDefinitionNode):
                operations[definition.name.value] = definition
            elif isinstance(definition, FragmentDefinitionNode):
                fragments[definition.name.value] = definition
    return operations, fragments


def operation_names() -> list[str]:
    return sorted(_definitions()[0])


@cache
def document(name: str) -> str:
    """Operation `name` with exactly the fragments it uses, transitively."""
    operations, fragments = _definitions()
    operation = operations[name]
    needed, todo = set(), _spreads(operation)
    while todo:
        fragment = todo.pop()
        if fragment not in needed:
            needed.add(fragment)
            todo |= _spreads(fragments[fragment])
    return "\n\n".join(print_ast(d) for d in [operation, *(fragments[f] for f in sorted(needed))])
