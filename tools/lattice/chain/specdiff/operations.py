"""The walk over two documents: paths and operations, then each operation's requests, responses, security."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tools.lattice.chain.specdiff.document import Json, Resolver, escape
from tools.lattice.chain.specdiff.model import Change, Level, Report, register
from tools.lattice.chain.specdiff.requests import compare_parameters, compare_request_body
from tools.lattice.chain.specdiff.responses import compare_responses
from tools.lattice.chain.specdiff.schemas import SchemaDiff

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

API_PATH_REMOVED_WITHOUT_DEPRECATION = register(
    "api-path-removed-without-deprecation",
    Level.BREAKING,
    "a path was removed without being deprecated first",
)
API_PATH_REMOVED_WITH_DEPRECATION = register(
    "api-path-removed-with-deprecation", Level.WARNING, "a path whose operations were deprecated was removed"
)
API_REMOVED_WITHOUT_DEPRECATION = register(
    "api-removed-without-deprecation",
    Level.BREAKING,
    "an operation was removed without being deprecated first",
)
API_REMOVED_WITH_DEPRECATION = register(
    "api-removed-with-deprecation", Level.WARNING, "a deprecated operation was removed"
)
ENDPOINT_ADDED = register("endpoint-added", Level.INFO, "an operation was added")
ENDPOINT_DEPRECATED = register("endpoint-deprecated", Level.INFO, "an operation was deprecated")
ENDPOINT_REACTIVATED = register("endpoint-reactivated", Level.INFO, "an operation is no longer deprecated")
API_OPERATION_ID_CHANGED = register(
    "api-operation-id-changed",
    Level.BREAKING,
    "an operationId changed (the generated SDK's function and module are renamed)",
)
API_OPERATION_ID_ADDED = register("api-operation-id-added", Level.INFO, "an operationId was added")
API_TAG_REMOVED = register(
    "api-tag-removed", Level.WARNING, "an operation lost a tag (the SDK groups functions by the first tag)"
)
API_TAG_ADDED = register("api-tag-added", Level.INFO, "an operation gained a tag")
API_SECURITY_ADDED = register(
    "api-security-added", Level.BREAKING, "an operation that allowed anonymous calls now requires credentials"
)
API_SECURITY_ALTERNATIVE_ADDED = register(
    "api-security-alternative-added", Level.INFO, "a new way to authenticate an operation was added"
)
API_SECURITY_REMOVED = register(
    "api-security-removed",
    Level.BREAKING,
    "a security requirement was removed: clients using it are refused",
)
API_SECURITY_BECAME_OPTIONAL = register(
    "api-security-became-optional", Level.INFO, "an operation now also allows anonymous calls"
)
API_SECURITY_SCOPE_ADDED = register(
    "api-security-scope-added", Level.BREAKING, "a security requirement needs an additional scope"
)
API_SECURITY_SCOPE_REMOVED = register(
    "api-security-scope-removed", Level.INFO, "a security requirement needs one scope fewer"
)

API_SECURITY_REQUIREMENT_RELAXED = register(
    "api-security-requirement-relaxed",
    Level.INFO,
    "a security requirement was replaced by one asking for less (fewer schemes or scopes)",
)
# A security scheme's definition: a client configured for the old one presents the wrong credential.
_SCHEME_FIELDS = {
    "type": "type",
    "scheme": "scheme",
    "bearerFormat": "bearer-format",
    "in": "in",
    "name": "name",
    "openIdConnectUrl": "open-id-connect-url",
}
_FLOW_FIELDS = {
    "authorizationUrl": "oauth-url",
    "tokenUrl": "oauth-token-url",
    "refreshUrl": "oauth-refresh-url",
}
SECURITY_COMPONENT_CHANGED = {
    stem: register(
        f"api-security-component-{stem}-changed",
        Level.BREAKING,
        f"a security scheme's {field} changed (clients present the credential the old way)",
    )
    for field, stem in {**_SCHEME_FIELDS, **_FLOW_FIELDS}.items()
}
API_SECURITY_COMPONENT_REMOVED = register(
    "api-security-component-removed", Level.INFO, "a security scheme was removed from components"
)
API_SECURITY_COMPONENT_ADDED = register(
    "api-security-component-added", Level.INFO, "a security scheme was added to components"
)

# OpenAPI 3.1 webhooks: calls the server makes to its clients. Their contents are not compared.
WEBHOOK_REMOVED = register(
    "webhook-removed", Level.BREAKING, "a webhook was removed (clients that handle it stop receiving it)"
)
WEBHOOK_ADDED = register("webhook-added", Level.INFO, "a webhook was added")

_TEMPLATE = re.compile(r"\{[^}]*\}")


def _normalized(path: str) -> str:
    """Paths match by shape: `/marks/{id}` and `/marks/{mark_id}` are the same path."""
    return _TEMPLATE.sub("{}", path)


Endpoint = tuple[str, Mapping[str, Any], Mapping[str, Any]]  # (path template, path item, operation)


def _endpoints(document: Json, resolver: Resolver) -> dict[str, dict[str, Endpoint]]:
    """Operations by path shape, then method. Two templates of one shape (`/pet/{id}`, `/pet/{id2}`,
    which OpenAPI forbids but documents have) pool their methods rather than hide each other."""
    found: dict[str, dict[str, Endpoint]] = {}
    for path, raw in (document.get("paths") or {}).items():
        item, _ = resolver.deref(raw)
        for method, op in _operations(item).items():
            found.setdefault(_normalized(path), {})[method] = (path, item, op)
    for path in document.get("paths") or {}:
        found.setdefault(_normalized(path), {})  # a path with no operation still exists
    return found


def _operations(path_item: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {m: op for m, op in path_item.items() if m in METHODS and isinstance(op, Mapping)}


def label(method: str, path: str) -> str:
    return f"{method.upper()} {path}"


def diff(base: Json, revision: Json) -> list[Change]:
    """Every change from `base` to `revision`, at the registry's default levels, sorted for reading."""
    report = Report()
    old_resolver, new_resolver = Resolver(base), Resolver(revision)
    schemas = SchemaDiff(report, old_resolver, new_resolver)
    old_paths, new_paths = _endpoints(base, old_resolver), _endpoints(revision, new_resolver)
    for key in sorted(old_paths.keys() | new_paths.keys()):
        old_ops, new_ops = old_paths.get(key, {}), new_paths.get(key, {})
        if key not in new_paths:
            deprecated = bool(old_ops) and all(op.get("deprecated") is True for _, _, op in old_ops.values())
            check = API_PATH_REMOVED_WITH_DEPRECATION if deprecated else API_PATH_REMOVED_WITHOUT_DEPRECATION
            for method, (path, _, _) in old_ops.items():
                text = f"the path {path} was removed, and with it {label(method, path)}"
                report.add(check, label(method, path), f"/paths/{escape(path)}", text)
            continue
        for method in sorted(old_ops.keys() | new_ops.keys()):
            if method not in new_ops:
                old_path, _, was = old_ops[method]
                deprecated = was.get("deprecated") is True
                check = API_REMOVED_WITH_DEPRECATION if deprecated else API_REMOVED_WITHOUT_DEPRECATION
                at = f"/paths/{escape(old_path)}/{method}"
                name = label(method, old_path)
                report.add(check, name, at, f"the operation {name} was removed")
                continue
            new_path, new_item, now = new_ops[method]
            name, at = label(method, new_path), f"/paths/{escape(new_path)}/{method}"
            if method not in old_ops:
                report.add(ENDPOINT_ADDED, name, at, f"the operation {name} was added")
                continue
            old_path, old_item, was = old_ops[method]
            _operation_meta(report, name, at, was, now)
            _security(report, name, at, _effective_security(base, was), _effective_security(revision, now))
            compare_parameters(
                report, schemas, name, at, (old_path, old_item, was), (new_path, new_item, now)
            )
            compare_request_body(report, schemas, name, at, was, now)
            compare_responses(report, schemas, name, at, was, now)
    _security_schemes(report, base, revision)
    _webhooks(report, base, revision)
    return sorted(_unique(report.changes), key=Change.sort_key)


def _webhooks(report: Report, base: Json, revision: Json) -> None:
    old, new = base.get("webhooks") or {}, revision.get("webhooks") or {}
    for name in sorted(old.keys() - new.keys()):
        report.add(
            WEBHOOK_REMOVED, f"webhook {name}", f"/webhooks/{escape(name)}", f"the webhook {name} was removed"
        )
    for name in sorted(new.keys() - old.keys()):
        report.add(
            WEBHOOK_ADDED, f"webhook {name}", f"/webhooks/{escape(name)}", f"the webhook {name} was added"
        )


def _security_schemes(report: Report, base: Json, revision: Json) -> None:
    old = (base.get("components") or {}).get("securitySchemes") or {}
    new = (revision.get("components") or {}).get("securitySchemes") or {}
    old_resolver, new_resolver = Resolver(base), Resolver(revision)
    for name in sorted(old.keys() | new.keys()):
        at, where = f"/components/securitySchemes/{escape(name)}", f"security scheme {name}"
        if name not in new:
            report.add(API_SECURITY_COMPONENT_REMOVED, where, at, f"the security scheme {name} was removed")
            continue
        if name not in old:
            report.add(API_SECURITY_COMPONENT_ADDED, where, at, f"the security scheme {name} was added")
            continue
        was, now = old_resolver.deref(old[name])[0], new_resolver.deref(new[name])[0]
        for field, stem in _SCHEME_FIELDS.items():
            before, after = was.get(field), now.get(field)
            if field == "scheme":  # HTTP auth scheme names are case-insensitive (RFC 7235)
                before, after = str(before or "").lower() or None, str(after or "").lower() or None
            if before != after:
                text = f"the security scheme {name}: {field} changed from {before} to {after}"
                report.add(SECURITY_COMPONENT_CHANGED[stem], where, f"{at}/{field}", text)
        old_flows, new_flows = was.get("flows") or {}, now.get("flows") or {}
        for flow in sorted(old_flows.keys() & new_flows.keys()):
            for field, stem in _FLOW_FIELDS.items():
                before, after = (old_flows[flow] or {}).get(field), (new_flows[flow] or {}).get(field)
                if before != after:
                    text = f"the security scheme {name}: the {flow} flow's {field} changed to {after}"
                    report.add(SECURITY_COMPONENT_CHANGED[stem], where, f"{at}/flows/{flow}/{field}", text)


def _unique(changes: list[Change]) -> list[Change]:
    seen: set[tuple[str, str, str, str]] = set()
    out = []
    for change in changes:
        key = (change.id, change.operation, change.path, change.text)
        if key not in seen:
            seen.add(key)
            out.append(change)
    return out


def _operation_meta(
    report: Report, name: str, at: str, was: Mapping[str, Any], now: Mapping[str, Any]
) -> None:
    if now.get("deprecated") is True and was.get("deprecated") is not True:
        report.add(ENDPOINT_DEPRECATED, name, f"{at}/deprecated", f"{name} was deprecated")
    elif was.get("deprecated") is True and now.get("deprecated") is not True:
        report.add(ENDPOINT_REACTIVATED, name, f"{at}/deprecated", f"{name} is no longer deprecated")
    old_id, new_id = was.get("operationId"), now.get("operationId")
    if old_id != new_id:
        if old_id is None:
            report.add(
                API_OPERATION_ID_ADDED, name, f"{at}/operationId", f"the operationId {new_id} was added"
            )
        else:
            text = f"the operationId changed from {old_id} to {new_id}"
            report.add(API_OPERATION_ID_CHANGED, name, f"{at}/operationId", text)
    old_tags, new_tags = list(was.get("tags") or []), list(now.get("tags") or [])
    for tag in old_tags:
        if tag not in new_tags:
            report.add(API_TAG_REMOVED, name, f"{at}/tags", f"the tag {tag} was removed from {name}")
    for tag in new_tags:
        if tag not in old_tags:
            report.add(API_TAG_ADDED, name, f"{at}/tags", f"the tag {tag} was added to {name}")


def _effective_security(document: Json, operation: Mapping[str, Any]) -> list[dict[str, list[str]]]:
    """An operation's security requirements (its own, else the document's); [] or [{}] is anonymous."""
    security = operation.get("security", document.get("security", []))
    return [dict(r) for r in security] if isinstance(security, list) else []


def _anonymous(requirements: list[dict[str, list[str]]]) -> bool:
    return not requirements or any(not r for r in requirements)


def _asks_less(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    return set(new) <= set(old) and all(set(new[s] or []) <= set(old[s] or []) for s in new)


def _security(
    report: Report,
    name: str,
    at: str,
    old: list[dict[str, list[str]]],
    new: list[dict[str, list[str]]],
) -> None:
    """Requirements are alternatives (any one suffices); within one, every scheme is needed."""
    here = f"{at}/security"
    if _anonymous(old) and not _anonymous(new):
        wanted = ", ".join(sorted({s for r in new for s in r}))
        report.add(API_SECURITY_ADDED, name, here, f"{name} now requires credentials ({wanted})")
        return
    if _anonymous(new):
        if not _anonymous(old):
            report.add(API_SECURITY_BECAME_OPTIONAL, name, here, f"{name} now also accepts anonymous calls")
        return
    old_by = {frozenset(r): r for r in old}
    new_by = {frozenset(r): r for r in new}
    for schemes in old_by.keys() - new_by.keys():
        shown = " + ".join(sorted(schemes))
        # Credentials for the old requirement satisfy any new one needing a subset of its schemes/scopes.
        if any(_asks_less(new_by[other], old_by[schemes]) for other in new_by.keys() - old_by.keys()):
            text = f"the security requirement {shown} of {name} now asks for less"
            report.add(API_SECURITY_REQUIREMENT_RELAXED, name, here, text)
            continue
        report.add(
            API_SECURITY_REMOVED, name, here, f"the security requirement {shown} was removed from {name}"
        )
    for schemes in new_by.keys() - old_by.keys():
        shown = " + ".join(sorted(schemes))
        report.add(API_SECURITY_ALTERNATIVE_ADDED, name, here, f"{name} also accepts {shown}")
    for schemes in old_by.keys() & new_by.keys():
        for scheme in sorted(schemes):
            was, now = set(old_by[schemes][scheme] or []), set(new_by[schemes][scheme] or [])
            for scope in sorted(now - was):
                text = f"{name} needs the scope {scope} of {scheme}"
                report.add(API_SECURITY_SCOPE_ADDED, name, f"{here}/{escape(scheme)}", text)
            for scope in sorted(was - now):
                text = f"{name} no longer needs the scope {scope} of {scheme}"
                report.add(API_SECURITY_SCOPE_REMOVED, name, f"{here}/{escape(scheme)}", text)
