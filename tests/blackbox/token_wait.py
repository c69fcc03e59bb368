"""A token the daemon already knows: `factord token create` writes the store, and the
running daemon picks the change up within about a second (tests poll instead of sleeping)."""
import time


def new_token(d, name, scopes, timeout=15):
    """Creates a token with `scopes` for daemon d and returns it once d accepts it."""
    token = d.create_token(name, scopes)
    deadline = time.monotonic() + timeout
    while d.request("GET", "/v1/panels", headers={"Authorization": f"Bearer {token}"})[0] != 200:
        if time.monotonic() > deadline:
            raise AssertionError(f"token {name} not accepted after {timeout} s")
        time.sleep(0.1)
    return token
