"""Hooks: answers a lower layer needs from a higher one, filled at start-up (app/workflow_hooks.py).

A lower layer declares a `Hook` with a safe default and calls it; the feature that knows the answer
registers its function once when the application is built. Nothing here imports a feature, so the
import graph points one way only (Indico's signals play the same role).
"""

from __future__ import annotations

from typing import Any, Callable


class Hook:
    """One named answer: `hook(*args)` calls the registered function, or the default when none is."""

    def __init__(self, name: str, default: Callable[..., Any]):
        self.name = name
        self._default = default
        self._fn: Callable[..., Any] | None = None

    def register(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        self._fn = fn  # idempotent: building the app again registers the same function again
        return fn

    @property
    def registered(self) -> bool:
        return self._fn is not None

    def __call__(self, *args, **kwargs):
        return (self._fn or self._default)(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Hook {self.name}{' (registered)' if self._fn else ''}>"


# The people `user` stands in for (заместитель) on `day` (default: the user's today); filled by deadlines.
covered_people = Hook("covered_people", lambda user, day=None: [])
# {absent person's id: the people standing in for them on `day`} for `people` (one query); filled by deadlines.
deputies_on = Hook("deputies_on", lambda people, day: {})
# The active user a personal API token belongs to, or None; filled by the API feature.
bearer_user = Hook("bearer_user", lambda secret: None)
# The Russian label of `state` as the workflow of `object_type` names it, or None; filled by the workflows.
state_label = Hook("state_label", lambda object_type, state: None)
# (path, id) of the organisations an assignment-scoped role of `user` (app/auth/roles.py ASSIGNED_ROLES, the
# regional expert) is valid in; filled by the assessment (municipalities assigned in published or closed campaigns).
assigned_organisations = Hook("assigned_organisations", lambda user: [])
# Called when `user` changed their own password (`actor` did it): what the old password let out must end with it;
# filled by deadlines (the personal iCalendar link is revoked; True when there was one).
password_changed = Hook("password_changed", lambda user, *, actor: False)
