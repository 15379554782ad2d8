"""Liveness and readiness probes for load balancers and systemd."""

import marshmallow as ma
from flask_smorest import Blueprint

from ..extensions import limiter
from ..services import health

blp = Blueprint("health", __name__, description="Operations")
PUBLIC = {"security": []}


class LivenessSchema(ma.Schema):
    status = ma.fields.String(required=True)


class ReadinessSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"description": "ok or unavailable"})
    checks = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True)


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
    """Database and Redis reachable (503 when one is down)."""
    checks = health.check_dependencies()
    ready = all(status != "down" for status in checks.values())
    return {"status": "ok" if ready else "unavailable", "checks": checks}, 200 if ready else 503
