"""Who may see what: every authorisation rule of the graph, in one place.

Roles:

- A customer sees only their own customer record, orders and everything under them, and only
  CUSTOMER-visible events; lists over everyone (orders, customers, inventory, stats) are refused. Texts written
  for agents (INTERNAL_TEXT below: hold reasons, internal notes) never reach them.
- A customer who buys for a company (#21) also sees that company, its active ship-to locations and its price list;
  its COMPANY_ADMINs and APPROVERs also see every order placed for it (by `node`, `Company.orders` and
  `myOrderUpdates`), with its buyers' names and emails but never a colleague's own orders, addresses, activity or
  settings; its COMPANY_ADMINs manage its buyers and locations. Another company's objects are answered as missing
  ones. The rules are resolvers.companies'.
- An agent sees everything.
- An admin is an agent who also configures integrations (webhook subscriptions); agents and analysts cannot.
- An analyst reads every order for BI, with nothing that identifies a customer or that a person wrote.
- Without a valid token only the public catalogue answers: products and their availability, `markets`, and the
  store finder (`pickupPoints`, `stores`); each counts in the anonymous cost budget (schema/limits.py).

What a value is decides who sees it (`SHOWN`, read through `shows` and the Viewer's `sees_*` properties):

- PERSONAL: customers' names, emails, phones (the SMS phone too), addresses (saved and shipping), the name of
  a customer who acted (`Actor.name`), and the buyer printed on invoices and credit notes (`Invoice.buyer`,
  `CreditNote.buyer`: name, email, address, tax id); a company buyer's name and email (`CompanyBuyer`), and the
  name, street lines and phone of a company's billing address and ship-to locations (`CompanyAddress`: the city,
  region, postal code and country, and the company's name, stay visible to analysts).
- FREE_TEXT: text a person typed: customisation text on order lines, event messages (notes, and the messages
  that quote cancellation, hold and rejection reasons: every `OrderEvent.message`, since any may quote one),
  carriers' and agents' scan texts on shipments (`ShipmentEvent.description`, `.location`), and any note or
  reason field added later.
- INTERNAL_TEXT: free text written for agents only: `Order.holdReason`, internal notes and reasons, and the
  message of an INTERNAL event.

Customers see PERSONAL and FREE_TEXT (of their own records only: `can_see_customer`); agents see all three;
analysts see none of them. A value hidden from a viewer resolves to null (an empty list for lists): never a
placeholder, never an error, so every contract document (the BI ones included) still runs.

The analysts' rule, path by path (nothing below depends on customers' data, so no answer is an oracle):

- Fields, `node`, connections, exports: every field above resolves through `shows`, whichever way the object
  was reached (`node`, `orders`, `customers`, `Customer.orders`, `Return.order`, payloads…).
- Search: `may_match_personal_data`. `orders(filter: {search})` compares an analyst's term with non-personal
  identifiers only (order number, SKU, tracking number), exactly; a term not shaped like an identifier (an
  email address, several words, a phone number with + or spaces) is refused with FORBIDDEN. `customers(search:)`
  has nothing else to match and is refused to analysts with FORBIDDEN whatever the term. Agents' terms also
  match names and emails (customers: and phones), as literal text (`loaders.contains_text`); a phone-shaped term
  also matches a customer's phone however either is written (`Customer.phone_digits`). Tracking numbers are
  compared without spaces, dashes and case, for analysts too (an identifier, not personal data).
- Sort keys and filters: every sort key (placedAt, total, number) and filter (status, channel, dates, customer
  ID, currency, market) is non-personal; a personal one added later must be refused to analysts here.
- Aggregates (`orderStats`): group by day, status, channel, location and market only, never by a personal value.
- Timelines and activity feeds (`Order.timeline`, `Customer.activity`): analysts get every event with its type,
  time, visibility and actor kind; the message is null (FREE_TEXT), a customer actor's name too (PERSONAL).
- Live events (subscriptions): `orderEvents` is for agents, `orderUpdated` for agents and the order's customer,
  `myOrderUpdates` for customers: analysts are refused with FORBIDDEN (and the field rules apply there too).
- Documents: return labels and drop-off passes print the customer's name and address; `may_download_documents`
  allows the return's customer and agents only. Analysts get 403 FORBIDDEN before any lookup (the same for
  every RMA number, existing or not) and `Return.labelUrl` is null for them. Invoices and credit notes print the
  buyer: the same rule for `/invoices/{number}.pdf` and `/credit-notes/{number}.pdf`, and `pdfUrl` is null for
  analysts, who see the documents' numbers, lines, taxes and totals in the graph.
- Accounting: `accountingEntries` and its CSV download are for staff (admins, agents, analysts) and hold no
  personal data (order and document numbers, accounts, amounts).
- Error messages: analysts are refused every mutation (FORBIDDEN) before anything is read; no error message
  quotes personal data or free text.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from ordergraph.resolvers.errors import Forbidden, Unauthenticated

T = TypeVar("T")


class Role(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    ANALYST = "analyst"
    ADMIN = "admin"


class Sensitive(StrEnum):
    """What a value is, for deciding who sees it (the module's docstring lists the fields of each)."""

    PERSONAL = "personal data"
    FREE_TEXT = "free text"
    INTERNAL_TEXT = "internal text"


# Who sees which kind of value; anything not listed (and every kind for a viewer without a role) is hidden.
SHOWN: dict[Role, frozenset[Sensitive]] = {
    Role.AGENT: frozenset(Sensitive),
    Role.CUSTOMER: frozenset({Sensitive.PERSONAL, Sensitive.FREE_TEXT}),
    Role.ANALYST: frozenset(),
    Role.ADMIN: frozenset(Sensitive),
}


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
        """Agents, and admins, who may do everything an agent may."""
        return self.role in (Role.AGENT, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.AGENT, Role.ANALYST, Role.ADMIN)

    def shows(self, kind: Sensitive) -> bool:
        return self.role is not None and kind in SHOWN[self.role]

    @property
    def sees_personal_data(self) -> bool:
        return self.shows(Sensitive.PERSONAL)

    @property
    def sees_free_text(self) -> bool:
        return self.shows(Sensitive.FREE_TEXT)

    @property
    def sees_internal_text(self) -> bool:
        return self.shows(Sensitive.INTERNAL_TEXT)

    @property
    def sees_internal_events(self) -> bool:
        """INTERNAL events themselves (their type and time); their messages are INTERNAL_TEXT."""
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


def require_admin(viewer: Viewer, action: str) -> Viewer:
    require_authenticated(viewer)
    if not viewer.is_admin:
        raise Forbidden(f"Only admins may {action}.")
    return viewer


def can_see_customer(viewer: Viewer, customer_id: int) -> bool:
    """Whether the viewer may see this customer and what belongs to them (orders, shipments, returns…)."""
    return viewer.is_staff or (viewer.is_customer and viewer.customer_id == customer_id)


def shown(viewer: Viewer, kind: Sensitive, value: T) -> T | None:
    """`value` when the viewer may see values of this kind, else None: how every field of the module's list
    resolves (schema/permissions.PersonalData does the same for PERSONAL fields)."""
    return value if viewer.shows(kind) else None


def free_text(viewer: Viewer, text: str | None) -> str | None:
    """Text a person wrote (customisation, notes, reasons, scan texts): not for analysts."""
    return shown(viewer, Sensitive.FREE_TEXT, text)


def internal_text(viewer: Viewer, text: str | None) -> str | None:
    """Text written for agents (hold reasons, internal notes): agents only."""
    return shown(viewer, Sensitive.INTERNAL_TEXT, text)


def event_message(viewer: Viewer, message: str | None, *, internal: bool) -> str | None:
    """An event's message: free text (any message may quote a note or a reason), internal text on an INTERNAL
    event (customers never get those events; this holds even if one reached them)."""
    return shown(viewer, Sensitive.INTERNAL_TEXT if internal else Sensitive.FREE_TEXT, message)


# An identifier an analyst may search for: order numbers (OG-00010000), SKUs (SKU-1), tracking numbers (1Z…).
_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,99}")


def may_match_personal_data(viewer: Viewer, term: str, *, identifiers: str | None) -> bool:
    """Whether a search term may be compared with personal data (names, emails, phones); `identifiers` names
    the non-personal values the search also matches (None: it has none).

    Agents: True. Analysts: False, so their term is compared with the identifiers alone; a term that is not
    shaped like one (an email address, several words, a phone number with + or spaces), or any term when there
    are no identifiers to match, is refused with FORBIDDEN. The refusal depends on the term's shape only, never
    on what the database holds: searching for a customer's email, a prefix of it or a name answers exactly as a
    random string of the same shape would."""
    if viewer.sees_personal_data:
        return True
    if identifiers is None:
        raise Forbidden("Analysts cannot search by personal data (names, emails, phones).")
    if _IDENTIFIER.fullmatch(term) is None:
        raise Forbidden(f"Analysts search {identifiers} only, never personal data (names, emails, phones, addresses).")
    return False


def may_download_documents(viewer: Viewer) -> bool:
    """Return labels and drop-off passes print the customer's name and address: for those who see personal data
    (the return's own customer, whom `can_see_customer` checks next, and agents), never for analysts. Decided
    on the role alone, before anything is looked up."""
    return viewer.sees_personal_data
