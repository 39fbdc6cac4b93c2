"""Errors a caller is meant to see, each with a stable code (the schema puts it in `extensions.code`).

Refusals of a business rule inside a mutation are not raised: they are `userErrors` in the payload.
These are for requests that cannot be answered at all.
"""


class ApiError(Exception):
    code = "BAD_USER_INPUT"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthenticated(ApiError):
    code = "UNAUTHENTICATED"


class Forbidden(ApiError):
    code = "FORBIDDEN"


class BadUserInput(ApiError):
    code = "BAD_USER_INPUT"


class InvalidId(ApiError):
    code = "INVALID_ID"
