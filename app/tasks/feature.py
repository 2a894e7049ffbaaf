"""The descriptor of the tasks package.

Transitional home: app/tasks/__init__.py belongs to the engine branch while it is rewritten, so the descriptor
waits here until that file ends with `from app.tasks.feature import FEATURE` (app.core.features reads it from
here meanwhile). Everything else about it is as for every other feature.
"""

from app.core.features import Feature, Mount, NavEntry
from app.tasks import bp

FEATURE = Feature(
    name="tasks", order=60, blueprints=(Mount(bp, "/tasks"),),
    navigation=(NavEntry(10, "Мои задачи", "tasks.inbox", group="Работа"),),
)
