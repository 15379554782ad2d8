"""Liveness and readiness probes for load balancers and systemd; Prometheus metrics."""

import marshmallow as ma
from flask import request

from .. import metrics
from ..adapters import health
from ..extensions import limiter
from .blueprint import Blueprint
from .errors import error_response

blp = Blueprint("health", __name__, description="Operations")
PUBLIC = {"security": []}


class LivenessSchema(ma.Schema):
    status = ma.fields.String(required=True)


class ReadinessSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"description": "ok or unavailable"})
    checks = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(),
        required=True,
        metadata={
            "description": "database and redis: ok, down or not_configured (down makes the process unavailable); "
            "replica: ok, lagging, unreachable or not_configured (the primary answers its reads meanwhile)"
        },
    )


@blp.route("/health", methods=["GET"])
@limiter.exempt
@blp.response(200, LivenessSchema)
@blp.doc(**PUBLIC)
def liveness():
    """The process is up and serving."""
    return {"status": "ok"}


@blp.route("/health/ready", methods=["GET"])
@limiter.exempt
@blp.response(200, ReadinessSchema)
@blp.alt_response(503, schema=ReadinessSchema, description="a dependency is down")
@blp.doc(**PUBLIC)
def readiness():
    """Database and Redis reachable (503 when one is down); the replica's state is reported, never a 503."""
    checks = health.check_dependencies()
    ready = all(checks[name] != "down" for name in health.REQUIRED)
    return {"status": "ok" if ready else "unavailable", "checks": checks}, 200 if ready else 503


@blp.route("/metrics", methods=["GET"])
@limiter.exempt
@blp.doc(
    security=[],
    responses={
        "200": {
            "description": "Prometheus text exposition of this service",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        "403": {"description": "asked through the public proxy"},
    },
)
def prometheus_metrics():
    """Prometheus samples of this service, for scrapers on its own port, never through the proxy."""
    # NGINX refuses /metrics itself; a request that came through any proxy is refused here too,
    # in case another route of the site ever reaches it.
    if request.headers.get("X-Forwarded-For") or request.headers.get("X-Real-IP"):
        return error_response(403, "forbidden", "metrics are scraped on the service port, not through the proxy")
    body, content_type = metrics.exposition()
    return body, 200, {"Content-Type": content_type, "Cache-Control": "no-store"}
