"""Stage guards of the last four stages (REC, MEAS, DEC, EFF): the integrity checks of the cycle's chain."""


def stage_content(stage) -> list[str]:
    if not (stage.summary or "").strip():
        return ["Не заполнено содержание этапа."]
    return []
