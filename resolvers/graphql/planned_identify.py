"""A GraphQL request whose document the identify plan answers (resolvers.graphql.identify_plan),
answered over HTTP as the GraphQL app would: the same context, the same use case, the same
response object; None for every other request, which the executor then answers."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from graphql import GraphQLSchema
from starlette.requests import Request
from starlette.responses import Response

from graphdb.errors import DatabaseUnavailable
from resolvers.graphql.app import GraphQLApp
from resolvers.graphql.documents import CACHED_DOCUMENTS
from resolvers.graphql.fields import identify_result, unavailable_error
from resolvers.graphql.identify_plan import IdentifyPlan, plan_of
from resolvers.graphql.schema import IdentitySchema
from resolvers.graphql.scope_check import scope_names, scopes_needed
from resolvers.runtime import json_body
from schema.types import IdentifyInput, Identity

log = logging.getLogger(__name__)

# What MaskErrors answers in place of an unexpected error (resolvers.graphql.schema).
UNEXPECTED = "Unexpected error."
_BODY_KEYS = frozenset({"query", "variables", "operationName"})


class PlannedIdentify:
    """The GraphQL app's fast path (GraphQLApp.planned)."""

    def __init__(self, schema: IdentitySchema) -> None:
        self._schema = schema
        self._graphql: GraphQLSchema = schema._schema
        # By document text and operation name, each seen once: hashing the text is cheap, and
        # hashing a parsed document walks all of it (10 us for the bench's).
        self._planned = lru_cache(maxsize=CACHED_DOCUMENTS)(self._plan_of)

    async def __call__(self, view: GraphQLApp, request: Request) -> Response | None:
        found = await self._plan(request)
        if found is None:
            return None
        plan, needed, values = found
        sub_response = await view.get_sub_response(request)
        context = await view.get_context(request, response=sub_response)
        if not needed <= scope_names(context):
            return None  # answered field by field, or refused whole: the executor's to do
        data: dict[str, Any]
        try:
            result = await identify_result(context, IdentifyInput(**values))
        except DatabaseUnavailable as error:
            context.refuse(503)
            unavailable = unavailable_error(error)
            data = plan.error(unavailable.message, unavailable.extensions)
        except Exception:
            log.exception("unexpected error in the identify mutation")
            data = plan.error(UNEXPECTED, None)
        else:
            type_name = "Identity" if isinstance(result, Identity) else "InvalidInput"
            data = {"data": plan.answer(result, type_name)}
        return view.create_response(data, sub_response)  # type: ignore[arg-type]

    async def _plan(
        self, request: Request
    ) -> tuple[IdentifyPlan, frozenset[str], dict[str, Any]] | None:
        try:
            body = json_body.loads(await request.body())
        except (ValueError, RecursionError):
            return None  # the view refuses it in its own words
        if not isinstance(body, dict) or not body.keys() <= _BODY_KEYS:
            return None
        query, operation_name = body.get("query"), body.get("operationName")
        if not isinstance(query, str) or not isinstance(operation_name, str | None):
            return None
        planned = self._planned(query, operation_name)
        if planned is None:
            return None
        plan, needed = planned
        values = plan.input_of(body.get("variables"))
        return None if values is None else (plan, needed, values)

    def _plan_of(
        self, query: str, operation_name: str | None
    ) -> tuple[IdentifyPlan, frozenset[str]] | None:
        """The plan of a valid document and the scopes it needs, or None."""
        document = self._schema.documents.valid(self._graphql, query)
        if document is None:
            return None
        plan = plan_of(self._graphql, document, operation_name)
        if plan is None:
            return None
        return plan, scopes_needed(self._graphql, document, query)
