"""The identify mutation answered without the GraphQL executor, for the documents that ask for it
and nothing else: what a checkout page sends on every order.

Executing a document through Strawberry and graphql-core cost four to five times what the whole
REST request costs (docs/PERFORMANCE.md): a context, extensions' hooks, argument conversion, a
resolver and a permission check per field. A document that is one `identify(input: $var)`
mutation selecting plain fields of Identity and InvalidInput (scalars and lists of them, by name
or alias, `__typename` anywhere) is planned once: which fields, in which order, under which
keys. A request with such a document, plain variables (strings or nulls under the input's own
names) and a key holding every scope the document needs (as the mutation scope check counts
them: resolvers.graphql.scope_check) runs the
same use case the resolver runs (resolvers.graphql.fields.identify_result) and reads the same
attributes of the same result objects into the answer.

Everything else goes through the executor, unchanged: other documents, directives, fragments by
name, variables graphql-core would coerce or refuse, a key lacking a scope (whose answer is
partial, or refused, field by field). tests/e2e/test_identify_plan.py checks that both ways give
the same answers, byte for byte.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, TypeVar

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

MUTATION_FIELD = "identify"
INPUT_TYPE = "IdentifyInput"
# The input's GraphQL names, and the Python names strawberry gives them.
INPUT_FIELDS = {
    "email": "email",
    "phoneNumber": "phone_number",
    "idempotencyKey": "idempotency_key",
}
_TYPENAME = "__typename"


@dataclass(frozen=True)
class Leaf:
    """One field of the answer: its key, and the attribute it reads (None: the type's name)."""

    key: str
    attribute: str | None
    scalar: GraphQLScalarType | None
    is_list: bool


@dataclass(frozen=True)
class IdentifyPlan:
    """How to answer one document, found once per distinct document."""

    key: str
    variable: str
    field: FieldNode
    # By the result's GraphQL type name: its fields, in the order graphql-core answers them.
    leaves: dict[str, tuple[Leaf, ...]]

    def answer(self, result: object, type_name: str) -> dict[str, Any]:
        """The answer's data, as graphql-core completes it."""
        fields: dict[str, Any] = {}
        for leaf in self.leaves[type_name]:
            if leaf.attribute is None:
                fields[leaf.key] = type_name
                continue
            value = getattr(result, leaf.attribute)
            if value is None or leaf.scalar is None:
                fields[leaf.key] = value
            elif leaf.is_list:
                fields[leaf.key] = [
                    None if item is None else leaf.scalar.serialize(item) for item in value
                ]
            else:
                fields[leaf.key] = leaf.scalar.serialize(value)
        return {self.key: fields}

    def error(self, message: str, extensions: dict[str, Any] | None) -> dict[str, Any]:
        """An error raised by the mutation field, as graphql-core formats it: the field is
        non-null, so the whole data is null."""
        error = GraphQLError(message, nodes=[self.field], path=[self.key], extensions=extensions)
        return {"data": None, "errors": [error.formatted]}

    def input_of(self, variables: object) -> dict[str, str | None] | None:
        """The input by its Python names when graphql-core would take it as it is: a map of
        the input's own fields to strings or nulls; None otherwise."""
        if not isinstance(variables, dict) or set(variables) != {self.variable}:
            return None
        value = variables[self.variable]
        if not isinstance(value, dict) or not set(value) <= INPUT_FIELDS.keys():
            return None
        if not all(item is None or isinstance(item, str) for item in value.values()):
            return None
        return {python: value.get(name) for name, python in INPUT_FIELDS.items()}


class _Unplannable(Exception):
    """The document is not one the plan answers: the executor does."""


def _require(condition: bool) -> None:
    if not condition:
        raise _Unplannable


def _as(value: object, kind: type[T]) -> T:
    _require(isinstance(value, kind))
    return value  # type: ignore[return-value]  # narrowed by the check above


def _present(value: T | None) -> T:
    if value is None:
        raise _Unplannable
    return value


def plan_of(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> IdentifyPlan | None:
    """The plan for a valid document (validated already), or None when it is not one the plan
    answers."""
    try:
        return _plan(schema, document, operation_name)
    except _Unplannable:
        return None


def _plan(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> IdentifyPlan:
    _require(len(document.definitions) == 1)
    operation = _as(document.definitions[0], OperationDefinitionNode)
    _require(operation.operation is OperationType.MUTATION and not operation.directives)
    if operation_name is not None:
        _require(_present(operation.name).value == operation_name)
    variable = _input_variable(operation)
    _require(len(operation.selection_set.selections) == 1)
    field = _as(operation.selection_set.selections[0], FieldNode)
    _require_identify_with(field, variable)
    key = field.alias.value if field.alias is not None else MUTATION_FIELD
    return IdentifyPlan(key, variable, field, _leaves(schema, field))


def _input_variable(operation: OperationDefinitionNode) -> str:
    """The one variable, of type IdentifyInput!, with no default."""
    definitions = _present(operation.variable_definitions)
    _require(len(definitions) == 1)
    definition = definitions[0]
    _require(definition.default_value is None and not definition.directives)
    declared = _as(_as(definition.type, NonNullTypeNode).type, NamedTypeNode)
    _require(declared.name.value == INPUT_TYPE)
    return definition.variable.name.value


def _require_identify_with(field: FieldNode, variable: str) -> None:
    _require(field.name.value == MUTATION_FIELD and not field.directives)
    arguments = _present(field.arguments)
    _require(len(arguments) == 1 and arguments[0].name.value == "input")
    _require(_as(arguments[0].value, VariableNode).name.value == variable)


def _leaves(schema: GraphQLSchema, field: FieldNode) -> dict[str, tuple[Leaf, ...]]:
    """Each result type's leaves in document order: a union-level __typename counts for both."""
    by_type: dict[str, list[Leaf]] = {"Identity": [], "InvalidInput": []}
    for selection in _present(field.selection_set).selections:
        if isinstance(selection, FieldNode):
            _require(selection.name.value == _TYPENAME and not selection.directives)
            for leaves in by_type.values():
                leaves.append(Leaf(_key(selection), None, None, is_list=False))
            continue
        fragment = _as(selection, InlineFragmentNode)
        _require(not fragment.directives)
        type_name = _present(fragment.type_condition).name.value
        _require(type_name in by_type)
        object_type = _as(schema.type_map[type_name], GraphQLObjectType)
        for inner in fragment.selection_set.selections:
            by_type[type_name].append(_plain_leaf(object_type, inner))
    for leaves in by_type.values():
        keys = [leaf.key for leaf in leaves]
        # The same key twice: graphql-core merges the fields; leave that to it.
        _require(len(set(keys)) == len(keys))
    return {name: tuple(leaves) for name, leaves in by_type.items()}


def _plain_leaf(object_type: GraphQLObjectType, node: object) -> Leaf:
    """A field with no arguments, directives or selection, that reads an attribute of its
    object (no resolver of its own) and is a scalar or a list of scalars."""
    leaf = _as(node, FieldNode)
    _require(not leaf.arguments and not leaf.directives and leaf.selection_set is None)
    if leaf.name.value == _TYPENAME:
        return Leaf(_key(leaf), None, None, is_list=False)
    field = _present(object_type.fields.get(leaf.name.value))
    definition = field.extensions.get("strawberry-definition")
    _require(definition is not None and definition.base_resolver is None)
    _require(not definition.arguments)
    scalar, is_list = _scalar(field)
    return Leaf(_key(leaf), definition.python_name, scalar, is_list)


def _scalar(field: GraphQLField) -> tuple[GraphQLScalarType, bool]:
    kind: Any = field.type
    kind = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
    is_list = isinstance(kind, GraphQLList)
    if is_list:
        kind = kind.of_type
        kind = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
    _require(isinstance(kind, GraphQLScalarType))
    return kind, is_list


def _key(node: FieldNode) -> str:
    return node.alias.value if node.alias is not None else node.name.value
