"""Who may see what: every authorisation rule of the graph, in one place.

- A customer sees only their own customer record, orders and everything under them, and only
  CUSTOMER-visible events; lists over everyone (orders, customers, inventory, stats) are refused.
- An agent sees everything.
- An analyst reads everything, with customers' personal data (name, email, phones, addresses) masked.
- Without a valid token only the public catalogue (products and their availability) answers.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ordergraph.resolvers.errors import Forbidden, Unauthenticated


class Role(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    ANALYST = "analyst"


@dataclass(frozen=True, slots=True)
class Viewer:
    role: Role | None = None
    name: str | None = None
    subject: str | None = None
    customer_id: int | None = None  # set for customers only
    # Why a presented token was refused (bad signature, expired…); None when there was no token.
    token_error: str | None = None
    # When the token stops being valid: a live subscription outlives the request that checked it.
    expires_at: datetime | None = None

    @property
    def is_customer(self) -> bool:
        return self.role is Role.CUSTOMER

    @property
    def is_agent(self) -> bool:
        return self.role is Role.AGENT

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.AGENT, Role.ANALYST)

    @property
    def sees_personal_data(self) -> bool:
        return self.role is not Role.ANALYST

    @property
    def sees_internal_events(self) -> bool:
        return self.is_staff


ANONYMOUS = Viewer()


def require_authenticated(viewer: Viewer) -> Viewer:
    if viewer.role is None:
        raise Unauthenticated(viewer.token_error or "Sign in: send 'Authorization: Bearer <token>'.")
    return viewer


def require_staff(viewer: Viewer) -> Viewer:
    """Lists over every customer are for agents and analysts."""
    require_authenticated(viewer)
    if not viewer.is_staff:
        raise Forbidden("Only agents and analysts may list across customers.")
    return viewer


def require_agent(viewer: Viewer, action: str) -> Viewer:
    require_authenticated(viewer)
    if not viewer.is_agent:
        raise Forbidden(f"Only agents may {action}.")
    return viewer


def can_see_customer(viewer: Viewer, customer_id: int) -> bool:
    """Whether the viewer may see this customer and what belongs to them (orders, shipments, returns…)."""
    return viewer.is_staff or (viewer.is_customer and viewer.customer_id == customer_id)
