"""GraphQL types of erasure: what was erased, and the clusters left."""

from __future__ import annotations

import strawberry

from graphdb.erasure import ErasureResult
from graphdb.ledger import BridgeKind
from schema.history import Bridge
from schema.types import ClusterReads, Identity


@strawberry.type(
    description="An erasure, done or (dryRun) as it would be: the values removed, the contacts "
    "that carried them, and the clusters they were in, recomputed from the evidence left."
)
class ErasureReport:
    dry_run: bool
    erased: list[Bridge] = strawberry.field(
        description="The values found and erased, as the ledger names them: kind and keyed hash."
    )
    contact_ids: list[int] = strawberry.field(description="The contacts that carried them.")
    clusters: list[Identity] = strawberry.field(
        description="The clusters left, in primary id order: two or more where the erased value "
        "was the only evidence joining them."
    )

    @classmethod
    def from_result(
        cls, result: ErasureResult, dry_run: bool, reads: ClusterReads
    ) -> ErasureReport:
        return cls(
            dry_run=dry_run,
            erased=[Bridge(kind=BridgeKind(v.kind), hash=v.token) for v in result.erased],
            contact_ids=result.contact_ids,
            clusters=[Identity.from_record(cluster, reads) for cluster in result.clusters],
        )
