"""Attack 13: the log-in throttle as a denial of service. Five wrong passwords from anywhere locked an account for
the window, for everyone — the head could be kept out of the system before a signing deadline by one guess every two
minutes. The account's limit now counts per address; guesses spread over many addresses shut out only addresses
the account has never logged in from. Both sides are checked: the guesser is still stopped, the owner gets in."""

from sqlalchemy import func, select

from tests.conftest import PASSWORD

OWNER_ADDR = "10.20.30.40"  # the head's own computer
THROTTLED = 429


def post_login(app, login, password, addr):
    return app.test_client().post("/login", data={"login": login, "password": password},
                                  environ_overrides={"REMOTE_ADDR": addr})


def failures(db_session, login):
    from app.auth.models import LoginAttempt

    return db_session.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.login == login, LoginAttempt.succeeded.is_(False)))


def test_guesses_from_one_address_stop_that_address_not_the_owner(app, world, db_session):
    head = world["head"]
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    attacker = "203.0.113.66"
    for n in range(limit):
        assert post_login(app, head.login, f"guess-{n}", attacker).status_code == 401
    # The guesser is stopped: even the right password is refused from that address, and nothing more is checked.
    refused = post_login(app, head.login, PASSWORD, attacker)
    assert refused.status_code == THROTTLED
    assert "с этого адреса" in refused.get_data(as_text=True)
    assert post_login(app, head.login, "guess-x", attacker).status_code == THROTTLED
    assert failures(db_session, head.login) == limit
    # The owner, from another address (never used before, too), signs in.
    owner = post_login(app, head.login, PASSWORD, OWNER_ADDR)
    assert owner.status_code == 302, owner.get_data(as_text=True)[:300]


def test_guesses_from_many_addresses_shut_out_new_addresses_only(app, world, db_session):
    head = world["head"]
    assert post_login(app, head.login, PASSWORD, OWNER_ADDR).status_code == 302  # the owner's usual computer
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL_ADDRESSES"]
    for n in range(limit):
        assert post_login(app, head.login, f"guess-{n}", f"198.51.100.{n + 1}").status_code == 401
    # A guesser at a fresh address is stopped, with the right password too...
    refused = post_login(app, head.login, PASSWORD, "198.51.100.200")
    assert refused.status_code == THROTTLED
    assert "с разных адресов" in refused.get_data(as_text=True)
    assert failures(db_session, head.login) == limit
    # ...while the owner at their own computer gets in, and the owner's success does not reopen new addresses.
    assert post_login(app, head.login, PASSWORD, OWNER_ADDR).status_code == 302
    assert post_login(app, head.login, "guess-y", "198.51.100.201").status_code == THROTTLED


def test_guesses_at_the_log_in_do_not_block_the_owners_signature_reentry(app, world, db_session):
    """A password re-entry (here: a password change) counts the log-in's failures too; from the owner's computer
    the guessers' failures elsewhere do not refuse it."""
    head = world["head"]
    owner = app.test_client()
    owner.environ_base["REMOTE_ADDR"] = OWNER_ADDR
    assert owner.post("/login", data={"login": head.login, "password": PASSWORD}).status_code == 302
    for n in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL_ADDRESSES"] + 2):
        post_login(app, head.login, f"guess-{n}", f"198.51.100.{n + 1}")
    new = "brand-new-password-77"
    response = owner.post("/password", data={"current": PASSWORD, "new": new, "repeat": new})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
