"""Bearer JWTs (HS256): claims sub, role (customer|agent|analyst|admin), name, exp; a customer's sub is
their global customer ID."""

from datetime import UTC, datetime, timedelta

import jwt

from ordergraph.resolvers.access import ANONYMOUS, Role, Viewer
from ordergraph.schema.node import decode_global_id

ALGORITHM = "HS256"


def issue_token(secret: str, *, role: Role, subject: str, name: str | None, ttl_seconds: int) -> str:
    expires = datetime.now(UTC) + timedelta(seconds=ttl_seconds)
    claims = {"sub": subject, "role": role.value, "name": name, "exp": expires}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def viewer_from_authorization(header: str | None, secret: str) -> Viewer:
    """The caller behind an Authorization header; a refused token gives an anonymous viewer that
    remembers why, so a field that needs a caller can say so. Any token that is not one `issue_token` could have
    made is refused, claims of the wrong type or out of range included: exp a number (PyJWT checks only that it
    converts to an int, so it lets the string "1893456000" through), role one of the roles, sub a short string
    (for a customer, their global customer ID), name a short string or null."""
    if not header:
        return ANONYMOUS
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return Viewer(token_error="Authorization must be 'Bearer <token>'.")
    token = token.strip()
    known = _VERIFIED.get((token, secret))
    if known is not None:
        if known.expires_at is not None and known.expires_at > datetime.now(UTC):
            return known
        del _VERIFIED[(token, secret)]  # expired since: decoded again, it says so
    viewer = _verified(token, secret)
    if viewer.token_error is None:
        if len(_VERIFIED) >= MAX_VERIFIED:
            _VERIFIED.clear()  # a flood of distinct tokens only costs their verification again
        _VERIFIED[(token, secret)] = viewer
    return viewer


# Viewers of tokens verified already, until they expire: a client sends its token with every request, and
# verifying the signature and claims again cost ~0.1 ms each time. Only accepted tokens are kept (a refusal may
# not be final: a token not yet valid becomes valid).
MAX_VERIFIED = 10_000
_VERIFIED: dict[tuple[str, str], Viewer] = {}


def _verified(token: str, secret: str) -> Viewer:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "role"]})
    except jwt.ExpiredSignatureError:
        return Viewer(token_error="The token has expired.")
    except (jwt.InvalidTokenError, ValueError, TypeError, OverflowError, RecursionError):
        return Viewer(token_error="The token is invalid.")
    problem = _claims_problem(claims)
    if problem is not None:
        return Viewer(token_error=f"The token is invalid: {problem}.")
    role = Role(claims["role"])
    customer_id = None
    if role is Role.CUSTOMER:
        decoded = decode_global_id(claims["sub"])
        if decoded is None or decoded[0] != "Customer":
            return Viewer(token_error="A customer token's sub must be the customer's global ID.")
        customer_id = decoded[1]
    return Viewer(
        role=role,
        name=claims.get("name"),
        subject=claims["sub"],
        customer_id=customer_id,
        expires_at=_expiry(claims["exp"]),
    )


MAX_CLAIM_LENGTH = 200
_ROLES = {role.value for role in Role}


def _claims_problem(claims: dict) -> str | None:
    """What makes verified claims unusable, or None."""
    if type(claims.get("exp")) not in (int, float) or _expiry(claims["exp"]) is None:
        return "exp must be a number of seconds since 1970"
    if not isinstance(claims.get("role"), str) or claims["role"] not in _ROLES:
        return f"role must be one of {', '.join(sorted(_ROLES))}"
    for name, required in (("sub", True), ("name", False)):
        value = claims.get(name)
        if value is None and not required:
            continue
        if not isinstance(value, str) or not value or len(value) > MAX_CLAIM_LENGTH or not value.isprintable():
            return f"{name} must be a printable string of 1 to {MAX_CLAIM_LENGTH} characters"
    return None


def _expiry(exp: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(exp, UTC)
    except (OverflowError, ValueError, OSError):
        return None
