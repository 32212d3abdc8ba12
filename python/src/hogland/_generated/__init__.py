"""Models generated from api/openapi.yaml (see scripts/gen_models.py)."""
