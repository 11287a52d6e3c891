"""The scoring admin API: a tenant's rule set, its versions, and a side-effect-free preview.

Viewers of a tenant may read and preview; managers of the tenant may PUT. A PUT stores
a new immutable version (and emits ``config.changed``) unless the body equals the
current version; the next lead is scored with it, no restart needed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from leadflow_contracts.topics import LEAD_QUALIFIED, LEAD_SCORED
from servicekit.auth import Principal, Role, require
from servicekit.inputs import INT4_MAX, PositiveInt4
from servicekit.openapi import problems
from servicekit.problems import ProblemError
from servicekit.runtime import Runtime

from leadflow_scoring.adapters import rule_store
from leadflow_scoring.adapters.rule_store import RuleSetUnavailable
from leadflow_scoring.api.errors import ReadableErrorsRoute
from leadflow_scoring.api.models import (
    SLUG,
    PreviewLead,
    PreviewOut,
    RawScores,
    RuleSetIn,
    RuleSetOut,
    VersionsOut,
    VersionSummary,
)
from leadflow_scoring.domain.engine import score
from leadflow_scoring.handlers import rule_sets

router = APIRouter(prefix="/v1/tenants/{slug}", tags=["scoring"], route_class=ReadableErrorsRoute)
VIEWER = require(Role.viewer)
MANAGER = require(Role.manager)
Slug = Annotated[str, Path(pattern=SLUG, description="The tenant's slug.")]


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.get("/scoring", response_model=RuleSetOut)
async def get_rule_set(slug: Slug, request: Request, principal: Principal = VIEWER) -> Any:
    principal.require_tenant(slug)
    async with _runtime(request).sessions() as session:
        return RuleSetOut.of(await rule_store.current(session, slug))


@router.put(
    "/scoring",
    response_model=RuleSetOut,
    responses={201: {"description": "A new version was stored."}},
)
async def put_rule_set(
    slug: Slug,
    body: RuleSetIn,
    request: Request,
    response: Response,
    principal: Principal = MANAGER,
) -> Any:
    """201 with the new version; 200 (nothing stored or emitted) if the body equals the
    current version, so retrying a PUT never piles up versions."""
    principal.require_tenant(slug)
    stored = await rule_sets.put_rule_set(
        _runtime(request), actor=principal.sub, tenant=slug, body=body
    )
    if stored.created:
        response.status_code = 201
        response.headers["Location"] = (
            f"/v1/tenants/{slug}/scoring/versions/{stored.version.version}"
        )
    return RuleSetOut.of(stored.version)


@router.get("/scoring/versions", response_model=VersionsOut)
async def list_versions(slug: Slug, request: Request, principal: Principal = VIEWER) -> Any:
    principal.require_tenant(slug)
    async with _runtime(request).sessions() as session:
        stored = await rule_store.versions(session, slug)
    return VersionsOut(
        tenant=slug,
        current=stored[0].version,
        versions=[
            VersionSummary(
                version=v.version,
                created_at=v.created_at,
                created_by=v.created_by,
                rules=len(v.rules) if isinstance(v.rules, list) else 0,
                threshold=v.threshold,
                weights=v.weights,
            )
            for v in stored
        ],
    )


@router.get("/scoring/versions/{number}", response_model=RuleSetOut)
async def get_version(
    slug: Slug, number: PositiveInt4, request: Request, principal: Principal = VIEWER
) -> Any:
    principal.require_tenant(slug)
    async with _runtime(request).sessions() as session:
        stored = await rule_store.version(session, slug, number)
    if stored is None:
        raise ProblemError(
            404, "not-found", "Not found", f"Tenant {slug!r} has no rule-set version {number}."
        )
    return RuleSetOut.of(stored)


@router.post(
    "/score:preview",
    response_model=PreviewOut,
    responses=problems(s409="The rule set cannot be loaded."),
)
async def preview(
    slug: Slug,
    body: PreviewLead,
    request: Request,
    version: Annotated[
        int | None, Query(ge=1, le=INT4_MAX, description="Default: the current one.")
    ] = None,
    principal: Principal = VIEWER,
) -> Any:
    """Score ``body`` with the same code as the pipeline; nothing is stored or emitted."""
    principal.require_tenant(slug)
    async with _runtime(request).sessions() as session:
        if version is None:
            stored = await rule_store.current(session, slug)
        else:
            found = await rule_store.version(session, slug, version)
            if found is None:
                raise ProblemError(
                    404, "not-found", "Not found", f"Tenant {slug!r} has no version {version}."
                )
            stored = found
    try:
        rule_set = stored.load()
    except RuleSetUnavailable as exc:
        raise ProblemError(
            409, "rule-set-invalid", "Rule set cannot be loaded", str(exc), errors=exc.issues
        ) from None
    result = score(body.to_lead(slug), rule_set)
    scored = result.to_event()
    emits = [LEAD_SCORED.event_type] + ([LEAD_QUALIFIED.event_type] if scored.qualified else [])
    return PreviewOut(
        scored=scored,
        would_emit=emits,
        raw=RawScores(fit=result.fit_raw, engagement=result.engagement_raw),
    )
