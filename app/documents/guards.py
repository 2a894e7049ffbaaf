"""Stage guard: the stage's mandatory document types exist (at least as drafts) before it is submitted."""


def mandatory_documents(stage) -> list[str]:
    return []
