"""The union the identify mutation answers with: the cluster, or why nothing was written."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.errors import InvalidInput
from schema.types import Identity

IdentifyResult = Annotated[Identity | InvalidInput, strawberry.union("IdentifyResult")]
