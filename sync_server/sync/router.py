"""HTTP routes for sync (thin: parse, authorise, call the service)."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["sync"])
