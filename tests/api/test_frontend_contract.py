"""The frontend contract: the schema snapshot is what the code exports, and the clients' operations
(kept byte-identical to shared/contract) validate against it."""

from pathlib import Path

import pytest
from contract import OPERATIONS, document, operation_names
from graphql import parse, validate

from ordergraph.schema.build import build_schema

schema = build_schema(None)

SNAPSHOT = Path(__file__).resolve().parents[2] / "frontend-contract" / "schema.graphql"
SHARED_CONTRACT = Path(__file__).resolve().parents[3] / "shared" / "contract"


def test_schema_snapshot_is_what_the_code_exports():
    assert SNAPSHOT.read_text() == schema.as_str() + "\n", "run `ordergraph export-schema` and commit the result"


@pytest.mark.skipif(not SHARED_CONTRACT.is_dir(), reason="shared/contract is not beside this checkout")
@pytest.mark.parametrize("name", ["fragments.graphql", "spa.graphql", "agent-console.graphql", "bi.graphql"])
def test_operations_are_byte_identical_to_the_shared_contract(name):
    assert (OPERATIONS / name).read_bytes() == (SHARED_CONTRACT / name).read_bytes()


@pytest.mark.parametrize("name", operation_names())
def test_contract_operation_validates(name):
    assert validate(schema._schema, parse(document(name))) == []
