from typing import NewType

import strawberry

BigInt = NewType("BigInt", int)


def _parse_big_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).lstrip("-").isdigit():
        raise ValueError("BigInt must be a string of digits")
    return int(value)


SCALARS = {
    BigInt: strawberry.scalar(
        name="BigInt",
        description="64-bit integer, serialised as a JSON string of digits (event sequence numbers).",
        serialize=str,
        parse_value=_parse_big_int,
    )
}
