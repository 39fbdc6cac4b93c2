"""Search folds every letter, not only ASCII: "šťastný" and "ŠŤASTNÝ" find "Jiří Šťastný", "العتيبي" finds
"محمد العتيبي" (SQLite through models/database.py's lower() override; PostgreSQL's ILIKE does it natively)."""

import pytest
import sqlalchemy as sa
from conftest import Api
from market_factories import market_shop  # noqa: F401

from ordergraph.loaders.base import contains_text
from ordergraph.models import Customer

CUSTOMERS = "query ($search: String) { customers(search: $search, first: 10) { edges { node { name } } } }"


@pytest.mark.parametrize(
    ("term", "name"),
    [("šťastný", "Jiří Šťastný"), ("ŠŤASTNÝ", "Jiří Šťastný"), ("jiří", "Jiří Šťastný"), ("العتيبي", "محمد العتيبي"),
     ("فاطمة", "فاطمة الكعبي")],
)  # fmt: skip
async def test_agents_find_customers_whatever_the_case_and_script(market_shop: Api, term: str, name: str) -> None:  # noqa: F811
    body = (await market_shop.post(CUSTOMERS, {"search": term}, token=market_shop.token("agent"))).json()
    assert "errors" not in body, body
    assert [edge["node"]["name"] for edge in body["data"]["customers"]["edges"]] == [name]


async def test_lower_folds_every_script_and_leaves_other_values(market_shop: Api) -> None:  # noqa: F811
    async with market_shop.db.read() as session:
        names = (
            (await session.exec(sa.select(Customer.name).where(contains_text(Customer.name, "ŠŤASTNÝ"))))
            .scalars()
            .all()
        )
        folded = (await session.exec(sa.select(sa.func.lower("ÉCOLE Šťastný"), sa.func.lower(None)))).one()
    assert names == ["Jiří Šťastný"]
    assert tuple(folded) == ("école šťastný", None)
