import re
from typing import NewType

import strawberry

BigInt = NewType("BigInt", int)


BIG_INT = re.compile(r"0|[1-9][0-9]{0,18}")
BIG_INT_MAX = 2**63 - 1


def _parse_big_int(value: object) -> int:
    """Only what this server writes: ASCII digits without sign or leading zero, within 64 bits."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not BIG_INT.fullmatch(str(value)):
        raise ValueError("BigInt must be a string of ASCII digits, 0 to 9223372036854775807")
    if int(value) > BIG_INT_MAX:
        raise ValueError("BigInt must be a string of ASCII digits, 0 to 9223372036854775807")
    return int(value)


SCALARS = {
    BigInt: strawberry.scalar(
        name="BigInt",
        description="64-bit integer, serialised as a JSON string of digits (event sequence numbers).",
        serialize=str,
        parse_value=_parse_big_int,
    )
}
