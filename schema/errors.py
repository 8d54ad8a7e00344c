"""The typed error results GraphQL returns instead of raising."""

from __future__ import annotations

import strawberry


@strawberry.type(description="The request was rejected and nothing was written.")
class InvalidInput:
    code: str
    message: str
    field: str | None = strawberry.field(description="The input field at fault, if one is.")
