"""An account serves all its holder's roles, so disabling it acts on every organisation where they hold one. A
municipality's administrator could disable the regional administrator (or a regional head) who also held a role in
that municipality, and so lock them out of the whole region (attack 7). Now only an administrator over every
organisation of the user's roles enables or disables the account; the municipality's own staff stay in reach."""

from app.demo import fill_stage  # noqa: F401  (loads the app's packages in order before the engine)


def _with_local_role(user, org, db_session):
    from app.auth.models import RoleAssignment

    user.roles.append(RoleAssignment(role="auditor", organisation=org))
    db_session.commit()
    return user


def test_a_municipal_administrator_cannot_disable_a_regional_user(world, client, login, make_user, db_session):
    regional = _with_local_role(world["admin"], world["mun"], db_session)
    local_admin = make_user("admin", world["mun"], login="mun-admin")
    login(local_admin)
    assert client.get(f"/admin/users/{regional.id}").status_code == 200  # in the list: a role in the municipality
    response = client.post(f"/admin/users/{regional.id}/active")
    assert response.status_code == 403
    assert "вне вашей зоны администрирования" in response.get_data(as_text=True)
    db_session.expire_all()
    assert regional.active
    assert regional.session_version == 1  # sessions not ended either


def test_the_service_refuses_it_too(world, make_user, db_session):
    import pytest

    from app.auth import services
    from app.core.errors import PermissionDenied

    regional = _with_local_role(world["head"], world["region"], db_session)  # the head of MUN also works above it
    local_admin = make_user("admin", world["mun"], login="mun-admin")
    with pytest.raises(PermissionDenied):
        services.set_active(regional, False, actor=local_admin)


def test_a_municipal_administrator_still_disables_the_municipalitys_own_staff(world, client, login, make_user,
                                                                            db_session):
    local_admin = make_user("admin", world["mun"], login="mun-admin")
    login(local_admin)
    assert client.post(f"/admin/users/{world['official'].id}/active").status_code == 302
    db_session.expire_all()
    assert not world["official"].active
