"""Each distinct GraphQL document parsed and validated once: clients send the same few documents
over and over, and parsing and validating one again is most of a small request's cost.

One extension does what strawberry's ParserCache, ValidationCache, MaxTokensLimiter,
AddValidationRules and DisableIntrospection did as five, each of which ran its hooks on every
request. The caches are bounded, so that distinct documents cannot grow memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache, partial

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

CACHED_DOCUMENTS = 256


@dataclass(frozen=True)
class DocumentRules:
    """What every document must keep to, beside the GraphQL specification's rules."""

    rules: tuple[type[ASTValidationRule], ...]
    max_tokens: int

    def extension(self) -> Callable[[], SchemaExtension]:
        """The schema's extension factory: the caches live as long as the factory."""
        parsed = lru_cache(maxsize=CACHED_DOCUMENTS)(partial(parse, max_tokens=self.max_tokens))
        validated = lru_cache(maxsize=CACHED_DOCUMENTS)(validate_document)
        return partial(PreparedDocuments, self.rules, parsed, validated)


class PreparedDocuments(SchemaExtension):
    def __init__(
        self,
        rules: tuple[type[ASTValidationRule], ...],
        parsed: Callable[[str], DocumentNode],
        validated: Callable[
            [GraphQLSchema, DocumentNode, tuple[type[ASTValidationRule], ...]],
            list[GraphQLError],
        ],
    ) -> None:
        super().__init__()
        self._rules = rules
        self._parsed = parsed
        self._validated = validated

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None:
            context.graphql_document = self._parsed(context.query)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None:
            context.pre_execution_errors = self._validated(
                context.schema._schema,
                context.graphql_document,
                (*context.validation_rules, *self._rules),
            )
        yield
