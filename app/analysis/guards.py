"""Stage guard of the analysis stage (ANL): what must exist before it is submitted for review."""


def analysis_content(stage) -> list[str]:
    if not (stage.summary or "").strip():
        return ["Не заполнено содержание этапа."]
    return []
