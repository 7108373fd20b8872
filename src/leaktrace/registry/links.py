"""OpenAPI links of the registry's API: which response gives the id that a next operation takes
(a filed report's id to its versions, questions, closing and attachments; a question's to its
answer; a key's to its revocation; a webhook's to its log). They tell a client the API's flow,
and let a stateful tester (Schemathesis) chain operations as a person would.
"""

from __future__ import annotations

from typing import Any

API = "/api/v1"
_REPORT = (
    ("get", "/reports/{report_id}"),
    ("get", "/reports/{report_id}/versions"),
    ("post", "/reports/{report_id}/versions"),
    ("get", "/reports/{report_id}/export"),
    ("post", "/reports/{report_id}/questions"),
    ("post", "/reports/{report_id}/close"),
    ("post", "/reports/{report_id}/attachments"),
)
_HOOK = (("post", "/webhooks/{webhook_id}/disable"), ("get", "/webhooks/{webhook_id}/deliveries"))

#: (method, path, status) of a response -> the operations its body leads to, with the
#: runtime expressions giving their path parameters.
LINKS: dict[tuple[str, str, str], list[tuple[str, str, dict[str, str]]]] = {
    ("get", "/reports", "200"): [
        (m, p, {"report_id": "$response.body#/items/0/id"}) for m, p in _REPORT
    ],
    ("post", "/reports", "201"): [(m, p, {"report_id": "$response.body#/id"}) for m, p in _REPORT],
    ("get", "/reports/{report_id}", "200"): [
        (
            "get",
            "/reports/{report_id}/versions/{number}",
            {"report_id": "$response.body#/id", "number": "$response.body#/latest_version"},
        ),
        (
            "post",
            "/reports/{report_id}/questions/{question_id}/answer",
            {"report_id": "$response.body#/id", "question_id": "$response.body#/questions/0/id"},
        ),
        (
            "get",
            "/reports/{report_id}/attachments/{attachment_id}",
            {
                "report_id": "$response.body#/id",
                "attachment_id": "$response.body#/attachments/0/id",
            },
        ),
    ],
    ("post", "/reports/{report_id}/versions", "201"): [
        (
            "get",
            "/reports/{report_id}/versions/{number}",
            {"report_id": "$response.body#/id", "number": "$response.body#/latest_version"},
        )
    ],
    ("post", "/reports/{report_id}/questions", "201"): [
        (
            "post",
            "/reports/{report_id}/questions/{question_id}/answer",
            {"report_id": "$response.body#/report_id", "question_id": "$response.body#/id"},
        )
    ],
    ("post", "/reports/{report_id}/attachments", "201"): [
        (
            "get",
            "/reports/{report_id}/attachments/{attachment_id}",
            {"report_id": "$request.path.report_id", "attachment_id": "$response.body#/id"},
        )
    ],
    ("get", "/keys", "200"): [
        ("post", "/keys/{key_id}/revoke", {"key_id": "$response.body#/items/0/id"})
    ],
    ("post", "/keys", "201"): [("post", "/keys/{key_id}/revoke", {"key_id": "$response.body#/id"})],
    ("get", "/webhooks", "200"): [
        (m, p, {"webhook_id": "$response.body#/items/0/id"}) for m, p in _HOOK
    ],
    ("post", "/webhooks", "201"): [(m, p, {"webhook_id": "$response.body#/id"}) for m, p in _HOOK],
}


def _ref(method: str, path: str) -> str:
    """A JSON pointer to the operation, as an OpenAPI link's ``operationRef``."""
    return "#/paths/" + (API + path).replace("~", "~0").replace("/", "~1") + "/" + method


def add_links(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with :data:`LINKS` in its responses (named after the operations they lead to)."""
    for (method, path, status), targets in LINKS.items():
        response = spec["paths"][API + path][method]["responses"][status]
        links = response.setdefault("links", {})
        for target_method, target_path, parameters in targets:
            target = spec["paths"][API + target_path][target_method]
            links[target["operationId"]] = {
                "operationRef": _ref(target_method, target_path),
                "parameters": {f"path.{name}": value for name, value in parameters.items()},
            }
    return spec
