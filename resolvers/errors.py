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


class Refusal(Exception):
    """A business rule refused a change. Raised inside the change's transaction, which then rolls back
    whole; the mutation answers it as a `userErrors` entry with this stable code."""

    def __init__(self, code: str, message: str, field: list[str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
