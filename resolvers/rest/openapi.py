"""The OpenAPI 3.1 description of the REST shim, served at /openapi.json."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from resolvers.core.identifiers import MAX_EMAIL_LENGTH, MAX_RAW_PHONE_LENGTH

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR}}}


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Identity service: legacy REST shim",
        "version": "1.0.0",
        "description": "Links an order's email and/or phone number into its identity cluster. "
        "The GraphQL API at /graphql offers the same and more.",
    },
    "paths": {
        "/identify": {
            "post": {
                "operationId": "identify",
                "summary": "Link a sighting into its identity cluster and answer the whole cluster",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "email": {
                                        "type": ["string", "null"],
                                        "format": "email",
                                        "maxLength": MAX_EMAIL_LENGTH,
                                    },
                                    "phoneNumber": {
                                        "oneOf": [
                                            {"type": "string", "maxLength": MAX_RAW_PHONE_LENGTH},
                                            {"type": "integer", "minimum": 0},
                                            {"type": "null"},
                                        ],
                                        "description": "An integer means its decimal digits.",
                                    },
                                },
                                "description": "At least one of email and phoneNumber, not null.",
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "The whole cluster after the change",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["contact"],
                                    "properties": {
                                        "contact": {
                                            "type": "object",
                                            "required": [
                                                "primaryContatctId",
                                                "emails",
                                                "phoneNumbers",
                                                "secondaryContactIds",
                                            ],
                                            "properties": {
                                                "primaryContatctId": {"type": "integer"},
                                                "emails": {
                                                    "type": "array",
                                                    "items": {"type": "string"},
                                                },
                                                "phoneNumbers": {
                                                    "type": "array",
                                                    "items": {"type": "string"},
                                                },
                                                "secondaryContactIds": {
                                                    "type": "array",
                                                    "items": {"type": "integer"},
                                                },
                                            },
                                        }
                                    },
                                }
                            }
                        },
                    },
                    "400": _error("Bad input; nothing was written"),
                    "413": _error("The body is too large"),
                    "415": _error("The body is not JSON"),
                    "503": _error("Neo4j is unavailable; retry shortly"),
                },
            }
        }
    },
}


async def openapi_endpoint(_request: Request) -> JSONResponse:
    return JSONResponse(OPENAPI)
