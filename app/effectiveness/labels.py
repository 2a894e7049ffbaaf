"""Russian audit-history labels of this feature, merged into app.audit.labels at start-up."""

ACTIONS: dict[str, str] = {}
OBJECTS: dict[str, str] = {}
STATES: dict[str, str] = {}
FIELDS: dict[str, str] = {}
