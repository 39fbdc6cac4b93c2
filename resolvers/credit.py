"""A company's credit for orders on account (#21): committed when an order is placed (or its total rises), given
back when a part of it is cancelled, refunded, or paid against its invoice.

Invariant: `company.credit_used_minor` never passes `credit_limit_minor` and never goes below 0 (the table's CHECK
says so too). Both moves are one conditional UPDATE each, so concurrent orders of one company on either database
can never together pass the limit: PostgreSQL re-evaluates the condition on the row the first writer committed,
SQLite serialises writers. Nothing here reads a value to decide and writes it back later.
"""

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.models import Company
from ordergraph.resolvers.errors import Refusal

# The gateway name of an on-account "payment": the ledger row that lets captures, voids and refunds of an order on
# account run through resolvers.payments like a card's, with no gateway call (resolvers.payments.OnAccount).
ON_ACCOUNT = "on_account"


async def commit_credit(session: AsyncSession, company_id: int, amount_minor: int, *, field: list[str]) -> None:
    """Takes `amount_minor` of the company's credit, or refuses with CREDIT_LIMIT_EXCEEDED (the caller's change
    then rolls back whole)."""
    if amount_minor <= 0:
        return
    used = col(Company.credit_used_minor)
    result = await session.exec(
        sa.update(Company)
        .where(col(Company.id) == company_id, used + amount_minor <= col(Company.credit_limit_minor))
        .values(credit_used_minor=used + amount_minor)
    )
    if result.rowcount != 1:
        raise Refusal(
            "CREDIT_LIMIT_EXCEEDED", "This order would take the company past its credit limit: pay by card.", field
        )


async def release_credit(session: AsyncSession, company_id: int, amount_minor: int) -> None:
    """Gives `amount_minor` back (never below nothing used: a release larger than what is used empties it)."""
    if amount_minor <= 0:
        return
    used = col(Company.credit_used_minor)
    await session.exec(
        sa.update(Company)
        .where(col(Company.id) == company_id)
        .values(credit_used_minor=sa.case((used > amount_minor, used - amount_minor), else_=0))
    )
