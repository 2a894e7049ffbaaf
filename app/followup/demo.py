"""Demo data of this feature, called from app.demo for each stage it fills."""

STAGE_FILLERS: dict = {}
