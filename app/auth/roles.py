"""Roles (роли). A role is held in an organisation and is valid in that organisation's subtree."""

ROLES = {
    "admin": "Администратор",
    "official": "Специалист органа управления образованием",
    "head": "Руководитель органа управления (утверждает и подписывает)",
    "methodologist": "Методист",
    "director": "Руководитель образовательной организации",
    "staff": "Сотрудник образовательной организации",
    "expert": "Региональный эксперт",
    "analyst": "Специалист РЦОКО (загрузка результатов и анализ)",
    "auditor": "Аудитор (только чтение)",
}

# Who may change the content of a cycle (goals, indicators, …) and submit stages for review.
EDITORS = frozenset({"official", "methodologist", "head", "director", "staff"})
# Who approves or returns a stage: the head of the owning authority, or the director for a school's own cycle.
APPROVERS = frozenset({"head", "director"})
# Who may open cycles and assign stage responsibility.
CYCLE_MANAGERS = frozenset({"official", "head", "director"})
READERS = frozenset(ROLES)
# Roles held at a centre (ИМЦ, РЦОКО) that are valid in the subtrees of the organisations the centre supports
# (app/orgs/models.py OrganisationSupport): a centre's director or staff act only in the centre itself.
SUPPORT_ROLES = frozenset({"methodologist", "analyst"})
# Roles valid over the organisation where they are held itself (not its subtree) and over the subtrees of the
# organisations assigned to their holder: a regional expert reads the region's own objects (the campaign's documents,
# the conclusions they sign) and the municipalities assigned to them in assessment campaigns (app/core/hooks.py
# assigned_organisations), never another municipality.
ASSIGNED_ROLES = frozenset({"expert"})
