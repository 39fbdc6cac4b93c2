"""Generated input into every variable of the company operations of the contract (#21), as tests/api/test_fuzz.py
does for the whole contract: nothing answers 5xx or INTERNAL_SERVER_ERROR, and a refused request writes no row."""

import json

import graphql
from conftest import Api
from contract import document
from test_company_admin import company_contract_variables
from test_fuzz import Unlimited, _check, _operation, _send, cases, snapshot
from test_placement import NEW_ADDRESS


async def test_generated_variables_never_break_a_company_operation(shop: Api) -> None:
    shop.app.state.services.guard.cost_limiter = Unlimited()
    valid = await company_contract_variables(shop, {**NEW_ADDRESS, "line2": "Apt 4", "phone": "+12125550123"})
    before = await snapshot(shop)
    tried = 0
    for name, (variables, role) in valid.items():
        assert _operation(name).operation is not graphql.OperationType.SUBSCRIPTION
        token = shop.token(role, "alice" if role == "customer" else None)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        for generated in cases(name, variables):
            content = json.dumps({"query": document(name), "variables": generated}).encode()
            status, body = await _send(shop, "/graphql", content, headers)
            before = await _check(shop, before, status, body, (name, generated))
            tried += 1
    assert tried >= len(valid) * 10
