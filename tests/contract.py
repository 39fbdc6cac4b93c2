"""The client contract's operations (frontend-contract/operations), each as the document a client sends."""

from ordergraph.schema.trusted_documents import OPERATIONS, contract_documents

__all__ = ["OPERATIONS", "document", "operation_names"]


def operation_names() -> list[str]:
    return sorted(contract_documents())


def document(name: str) -> str:
    """Operation `name` with exactly the fragments it uses, transitively."""
    return contract_documents()[name][1]
