"""Bearer JWTs (HS256): claims sub, role (customer|agent|analyst), name, exp; a customer's sub is
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
    remembers why, so a field that needs a caller can say so."""
    if not header:
        return ANONYMOUS
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return Viewer(token_error="Authorization must be 'Bearer <token>'.")
    try:
        claims = jwt.decode(token.strip(), secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "role"]})
        role = Role(claims["role"])
    except jwt.ExpiredSignatureError:
        return Viewer(token_error="The token has expired.")
    except (jwt.InvalidTokenError, ValueError):
        return Viewer(token_error="The token is invalid.")
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
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),
    )
