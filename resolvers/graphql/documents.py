"""Each distinct GraphQL document parsed and validated once: clients send the same few documents
over and over, and parsing and validating one again is most of a small request's cost.

One extension does what strawberry's ParserCache, ValidationCache, MaxTokensLimiter,
AddValidationRules and DisableIntrospection did as five, each of which ran its hooks on every
request. The caches are bounded, so that distinct documents cannot grow memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache, partial

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    parse,
    specified_rules,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

CACHED_DOCUMENTS = 256


@dataclass(frozen=True)
class ByText:
    """A parsed document, known by its text: clients send the same few documents over and over,
    and walking one costs about 0.1 ms, so what is learnt of one is cached by its text (hashing
    a parsed document walks all of it)."""

    query: str
    node: DocumentNode = field(compare=False, hash=False)


class Documents:
    """What every document must keep to, beside the GraphQL specification's rules, and the
    caches of the documents seen: one per schema, for its extension and its identify plan."""

    def __init__(self, rules: tuple[type[ASTValidationRule], ...], max_tokens: int) -> None:
        self.rules = rules
        # Both by the document's text: hashing a parsed document walks all of it (10 us for the
        # bench's identify), where a string hashes once.
        self.parsed = lru_cache(maxsize=CACHED_DOCUMENTS)(partial(parse, max_tokens=max_tokens))
        self.validated = lru_cache(maxsize=CACHED_DOCUMENTS)(self._validate)

    def _validate(
        self, schema: GraphQLSchema, query: str, rules: tuple[type[ASTValidationRule], ...]
    ) -> list[GraphQLError]:
        return validate_document(schema, self.parsed(query), rules)

    def extension(self) -> Callable[[], SchemaExtension]:
        """The schema's extension factory."""
        return partial(PreparedDocuments, self.rules, self.parsed, self.validated)

    def valid(self, schema: GraphQLSchema, query: str) -> DocumentNode | None:
        """The document, parsed and validated as the extension does (the same cache entries:
        Strawberry starts from the specification's rules), or None when it is not valid."""
        try:
            errors = self.validated(schema, query, (*specified_rules, *self.rules))
        except GraphQLError:
            return None  # it does not parse
        return None if errors else self.parsed(query)


class PreparedDocuments(SchemaExtension):
    def __init__(
        self,
        rules: tuple[type[ASTValidationRule], ...],
        parsed: Callable[[str], DocumentNode],
        validated: Callable[
            [GraphQLSchema, str, tuple[type[ASTValidationRule], ...]], list[GraphQLError]
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
        if context.query is not None and context.graphql_document is not None:
            context.pre_execution_errors = self._validated(
                context.schema._schema, context.query, (*context.validation_rules, *self._rules)
            )
        yield
