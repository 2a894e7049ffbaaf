"""A forged value in a multiple select is refused in Russian and changes nothing (found by bench/attack.py:
WTForms' Russian catalogue leaves the multiple-choice message untranslated, so the page said
«'x' is not a valid choice for this field.»)."""

from sqlalchemy import func, select


def test_forged_track_blocks_are_refused_in_russian(world, client, login, db_session):
    from app.catalogue.models import Mechanism, Track

    login(world["admin"])
    mechanism = db_session.scalar(select(Mechanism).order_by(Mechanism.id).limit(1))
    before = db_session.scalar(select(func.count()).select_from(Track))
    for blocks in (["NaN"], ["x", "y"]):
        response = client.post(f"/catalogue/mechanisms/{mechanism.id}/tracks",
                               data={"code": "forged", "title": "Трек", "blocks": blocks})
        text = response.get_data(as_text=True)
        assert response.status_code == 422
        assert "Недопустимое значение" in text and "Выберите из списка" in text
        assert "valid choice" not in text
    assert db_session.scalar(select(func.count()).select_from(Track)) == before
