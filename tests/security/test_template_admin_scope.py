"""Word templates are shared by every organisation of the region (the order of a municipality and of the region
render from the same file), so only an administrator at the top of the tree manages them. Before, any holder of
the `admin` role — a municipality's administrator, whose rights hold in that municipality only — opened
«Шаблоны документов», activated an uploaded version and switched the whole region back to the built-in one
(attack 7). The catalogue of mechanisms had this rule already; both now ask the same question."""

import io

from sqlalchemy import select

from app.demo import fill_stage  # noqa: F401  (loads the app's packages in order before the engine)


def _shipped() -> bytes:
    from app.documents.catalogue import get_type

    return get_type("regulation").template_path.read_bytes()


def test_a_municipal_administrator_cannot_manage_the_regions_templates(world, client, login, make_user, db_session):
    from app.documents import template_admin
    from app.documents.template_admin import TemplateVersion

    tv = template_admin.upload("regulation", stream=io.BytesIO(_shipped()), filename="r.docx", actor=world["admin"])
    db_session.commit()
    assert tv.valid and not tv.active
    local_admin = make_user("admin", world["mun"], login="mun-admin")
    login(local_admin)

    assert client.get("/documents/templates").status_code == 403
    assert client.get("/documents/templates/regulation").status_code == 403
    assert client.get(f"/documents/templates/versions/{tv.id}/download").status_code == 403
    refused = client.post(f"/documents/templates/versions/{tv.id}/activate")
    assert refused.status_code == 403
    assert "администратор регионального уровня" in refused.get_data(as_text=True)
    assert client.post("/documents/templates/regulation/upload",
                       data={"file": (io.BytesIO(_shipped()), "r.docx")},
                       content_type="multipart/form-data").status_code == 403
    db_session.expire_all()
    assert db_session.scalars(select(TemplateVersion.number)).all() == [tv.number]
    assert not db_session.get(TemplateVersion, tv.id).active
    assert "Шаблоны документов" not in client.get("/").get_data(as_text=True)


def test_the_service_refuses_a_municipal_administrator_too(world, make_user, db_session):
    import pytest

    from app.core.errors import PermissionDenied
    from app.documents import template_admin

    local_admin = make_user("admin", world["mun"], login="mun-admin")
    with pytest.raises(PermissionDenied):
        template_admin.upload("regulation", stream=io.BytesIO(_shipped()), filename="r.docx", actor=local_admin)
    with pytest.raises(PermissionDenied):
        template_admin.activate_builtin("regulation", actor=local_admin)


def test_the_regional_administrator_still_manages_them(world, client, login):
    login(world["admin"])
    assert client.get("/documents/templates").status_code == 200
    assert "Шаблоны документов" in client.get("/documents/templates").get_data(as_text=True)
