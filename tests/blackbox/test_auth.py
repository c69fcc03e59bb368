"""Authentication and the request policy (issue 15): bearer tokens with scopes, the Host
allowlist, Content-Type on writes, Origin checks and CORS preflights, against the real
daemon."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from factord_harness import Daemon, check, check_eq, run, test  # noqa: E402

PANEL = "id,ret,size\nA,0.01,1\nB,0.02,2\n"
CSV = {"Content-Type": "text/csv"}


def bearer(token):
    return {"Authorization": "Bearer " + token}


def wait_status(d, method, path, want, headers, timeout=15):
    """Polls until the answer's status is `want` (token changes reach the daemon within
    about a second); returns the last (status, doc)."""
    deadline = time.monotonic() + timeout
    while True:
        status, doc, _ = d.json(method, path, headers=headers)
        if status == want or time.monotonic() > deadline:
            return status, doc
        time.sleep(0.1)


@test
def no_token_is_401_with_a_bearer_challenge():
    with Daemon(auth=True) as d:
        status, doc, hdrs = d.json("GET", "/v1/panels", headers={"Authorization": ""})
        d.check_error(status, doc, 401, "invalid_token")
        d.token, token = None, d.token
        status, doc, hdrs = d.json("GET", "/v1/panels")
        d.check_error(status, doc, 401, "unauthorized")
        check_eq(hdrs.get("www-authenticate"), 'Bearer realm="factord"')
        # The probes stay open: a load balancer has no token.
        check_eq(d.json("GET", "/livez")[0], 200)
        check_eq(d.json("GET", "/readyz")[0], 200)
        check_eq(d.json("GET", "/v1/panels", headers=bearer(token))[0], 200)


@test
def wrong_and_malformed_tokens_are_401():
    with Daemon(auth=True) as d:
        good = d.token
        # Same id, different secret; an id nobody has; not the token format at all.
        forged = good[:-4] + ("0000" if not good.endswith("0000") else "1111")
        unknown = "fdt_" + "0" * 16 + good[20:]
        for token, code in ((forged, "invalid_token"), (unknown, "invalid_token"),
                            ("not-a-token", "invalid_token")):
            status, doc, hdrs = d.json("GET", "/v1/models", headers=bearer(token))
            d.check_error(status, doc, 401, code)
            check("invalid_token" in hdrs.get("www-authenticate", ""), hdrs)
        status, doc, _ = d.json("GET", "/v1/models", headers={"Authorization": "Basic eDp5"})
        d.check_error(status, doc, 401, "invalid_token")
        check_eq(d.json("GET", "/v1/models")[0], 200)


@test
def each_scope_opens_its_routes_only():
    with Daemon(auth=True) as d:
        reader = d.create_token("reader", "read")
        ingester = d.create_token("ingester", "ingest")
        trainer = d.create_token("trainer", "read,train")
        wait_status(d, "GET", "/v1/panels", 200, bearer(reader))
        # read: GETs, not writes.
        check_eq(d.json("GET", "/v1/panels", headers=bearer(reader))[0], 200)
        status, doc, hdrs = d.json("PUT", "/v1/panels/2020-01", PANEL, dict(CSV, **bearer(reader)))
        err = d.check_error(status, doc, 403, "insufficient_scope")
        check("ingest" in err["message"], err)
        check('scope="ingest"' in hdrs.get("www-authenticate", ""), hdrs)
        # ingest: data writes, not reads and not models.
        status, doc, _ = d.json("PUT", "/v1/panels/2020-01", PANEL, dict(CSV, **bearer(ingester)))
        check_eq(status, 200, doc)
        d.check_error(*d.json("GET", "/v1/panels", headers=bearer(ingester))[:2], 403,
                      "insufficient_scope")
        decl = {"name": "m", "kind": "ipca", "k": 1}
        d.check_error(*d.json("POST", "/v1/models", decl, bearer(ingester))[:2], 403,
                      "insufficient_scope")
        # train: declare models; deleting one is admin's.
        status, doc, _ = d.json("POST", "/v1/models", decl, bearer(trainer))
        check_eq(status, 201, doc)
        d.check_error(*d.json("DELETE", "/v1/models/m", headers=bearer(trainer))[:2], 403,
                      "insufficient_scope")
        # admin implies every scope.
        check_eq(d.json("DELETE", "/v1/models/m")[0], 200)
        check_eq(d.json("GET", "/v1/panels")[0], 200)
        # HEAD needs what GET needs.
        check_eq(d.request("HEAD", "/v1/panels", headers=bearer(ingester))[0], 403)
        check_eq(d.request("HEAD", "/v1/panels", headers=bearer(reader))[0], 200)


@test
def a_revoked_token_stops_working_while_the_daemon_runs():
    with Daemon(auth=True) as d:
        t = d.create_token("short-lived", "read")
        check_eq(wait_status(d, "GET", "/v1/panels", 200, bearer(t))[0], 200)
        listing = d.cli("token", "list", "--db", d.db_path, "--json").stdout
        check('"short-lived"' in listing and t not in listing, "the list shows no secret")
        d.cli("token", "revoke", "--db", d.db_path, "short-lived")
        status, doc = wait_status(d, "GET", "/v1/panels", 401, bearer(t))
        err = d.check_error(status, doc, 401, "invalid_token")
        check("revoked" in err["message"], err)
        check_eq(d.json("GET", "/v1/panels")[0], 200)  # the admin token is untouched
        # Revoking again, or something unknown, fails with a message.
        proc = d.cli("token", "revoke", "--db", d.db_path, "short-lived", check=False)
        check(proc.returncode == 1 and "already" in proc.stderr, proc.stderr)
        proc = d.cli("token", "revoke", "--db", d.db_path, "nobody", check=False)
        check(proc.returncode == 1 and "no token" in proc.stderr, proc.stderr)


@test
def token_cli_rejects_bad_input():
    with Daemon() as d:
        for args, text in ((["--name", "x", "--scopes", "root"], "unknown scope"),
                           (["--name", "x", "--scopes", ""], "no scope"),
                           (["--name", "bad name", "--scopes", "read"], "token name"),
                           (["--scopes", "read"], "--name")):
            proc = d.cli("token", "create", "--db", d.db_path, *args, check=False)
            check(proc.returncode in (1, 2) and text in proc.stderr, (args, proc.stderr))
            check_eq(proc.stdout, "")
        d.create_token("twice", "read")
        proc = d.cli("token", "create", "--db", d.db_path, "--name", "twice", "--scopes",
                     "read", check=False)
        check(proc.returncode == 1 and "exists" in proc.stderr, proc.stderr)


@test
def tokens_made_before_start_and_after_restart_work():
    with Daemon(auth=True) as d:
        check_eq(d.json("GET", "/v1/models")[0], 200)
        d.restart()
        check_eq(d.json("GET", "/v1/models")[0], 200)
        check("auth required: 1 active API token" in d.log(), d.log()[-500:])


@test
def auth_off_is_refused_on_a_non_loopback_listen_address():
    with Daemon(start=False) as d:
        proc = d.cli("serve", "--listen", "0.0.0.0", "--port", "0", "--db", d.db_path,
                     check=False, timeout=30)
        check_eq(proc.returncode, 1)
        check("auth must be 'required'" in proc.stderr, proc.stderr)


@test
def a_reload_can_turn_auth_on():
    with Daemon(config="log_level = info\n", auth=False) as d:
        check_eq(d.json("GET", "/v1/models")[0], 200)
        token = d.create_token("late", "read")
        d.write_config("log_level = info\nauth = required\n")
        d.hup()
        d.wait_log("config reloaded")
        d.check_error(*d.json("GET", "/v1/models")[:2], 401, "unauthorized")
        check_eq(wait_status(d, "GET", "/v1/models", 200, bearer(token))[0], 200)


@test
def a_bad_host_header_is_421():
    with Daemon() as d:
        for host in ("evil.example", "localhost.evil.example", "127.0.0.1.nip.io"):
            status, doc, _ = d.json("GET", "/v1/models", headers={"Host": host})
            d.check_error(status, doc, 421, "host_not_allowed")
        for host in ("localhost", "LOCALHOST:8080", "127.0.0.1:1", "[::1]:8080", "localhost."):
            check_eq(d.json("GET", "/v1/models", headers={"Host": host})[0], 200, host)
    with Daemon(config="allowed_hosts = factord.internal\n") as d:
        check_eq(d.json("GET", "/v1/models", headers={"Host": "factord.internal:80"})[0], 200)
        d.check_error(*d.json("GET", "/v1/models", headers={"Host": "localhost"})[:2], 421,
                      "host_not_allowed")
        # The listen address itself is always a fine Host.
        check_eq(d.json("GET", "/v1/models", headers={"Host": "127.0.0.1"})[0], 200)


@test
def a_rebinding_style_request_never_reaches_a_handler():
    with Daemon() as d:
        # A DNS-rebinding page: the socket goes to 127.0.0.1, the Host names the attacker.
        s = socket.create_connection(("127.0.0.1", d.port), timeout=20)
        s.sendall(b"DELETE /v1/panels/2020-01 HTTP/1.1\r\nHost: attacker.example\r\n"
                  b"Connection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        check(data.startswith(b"HTTP/1.1 421"), data[:80])


@test
def writes_need_an_explicit_accepted_content_type():
    with Daemon() as d:
        # What a cross-site HTML form can send: no preflight, so never accepted.
        for ctype in ("text/plain", "application/x-www-form-urlencoded",
                      "multipart/form-data; boundary=x"):
            status, doc, _ = d.json("PUT", "/v1/panels/2020-01", PANEL, {"Content-Type": ctype})
            d.check_error(status, doc, 415, "unsupported_media_type")
            status, doc, _ = d.json("POST", "/v1/models", '{"name":"m","kind":"ipca","k":1}',
                                    {"Content-Type": ctype})
            d.check_error(status, doc, 415, "unsupported_media_type")
        # A body without a Content-Type at all.
        status, doc, _ = d.json("POST", "/v1/models", '{"name":"m","kind":"ipca","k":1}')
        err = d.check_error(status, doc, 415, "unsupported_media_type")
        check("application/json" in err["message"], err)
        check_eq(d.get_json("/v1/panels")[1]["panels"], [])
        check_eq(d.get_json("/v1/models")[1]["models"], [])
        # The accepted types, with parameters, go through.
        check_eq(d.json("PUT", "/v1/panels/2020-01", PANEL,
                        {"Content-Type": "text/csv; charset=utf-8"})[0], 200)
        check_eq(d.json("POST", "/v1/models", {"name": "m", "kind": "ipca", "k": 1})[0], 201)


@test
def cross_origin_writes_are_refused_unless_the_origin_is_allowed():
    with Daemon() as d:
        hdrs = dict(CSV, Origin="https://evil.example")
        d.check_error(*d.json("PUT", "/v1/panels/2020-01", PANEL, hdrs)[:2], 403,
                      "origin_not_allowed")
        d.check_error(*d.json("DELETE", "/v1/panels/2020-01", headers=hdrs)[:2], 403,
                      "origin_not_allowed")
        # Reads from a page get an answer the browser will not hand over (no CORS headers).
        status, h, _ = d.request("GET", "/v1/panels", headers={"Origin": "https://evil.example"})
        check_eq(status, 200)
        check("access-control-allow-origin" not in h, h)


@test
def preflight_and_cors_headers_follow_the_origin_allowlist():
    dash = "https://dash.example.com"
    with Daemon() as d:  # CORS off by default
        status, doc, _ = d.json("OPTIONS", "/v1/models", headers={
            "Origin": dash, "Access-Control-Request-Method": "POST"})
        d.check_error(status, doc, 403, "origin_not_allowed")
        status, h, _ = d.request("OPTIONS", "/v1/models")
        check_eq((status, sorted(h.get("allow", "").split(", "))),
                 (204, ["GET", "HEAD", "OPTIONS", "POST"]))
        check_eq(d.request("OPTIONS", "/v1/nothing")[0], 404)
    with Daemon(auth=True, config="cors_origins = %s, http://localhost:3000\n" % dash) as d:
        pre = {"Origin": dash, "Access-Control-Request-Method": "PUT",
               "Access-Control-Request-Headers": "authorization, content-type"}
        status, h, body = d.request("OPTIONS", "/v1/panels/2020-01",
                                    headers=dict(pre, Authorization=""))
        check_eq((status, body), (204, b""))  # no token needed for a preflight
        check_eq(h.get("access-control-allow-origin"), dash)
        check("PUT" in h.get("access-control-allow-methods", ""), h)
        check("Authorization" in h.get("access-control-allow-headers", ""), h)
        check("Content-Type" in h.get("access-control-allow-headers", ""), h)
        check_eq(h.get("vary"), "Origin")
        status, doc, _ = d.json("OPTIONS", "/v1/panels/2020-01",
                                headers=dict(pre, Origin="https://evil.example"))
        d.check_error(status, doc, 403, "origin_not_allowed")
        # The real request from the allowed origin: CORS headers on success and on errors.
        status, h, _ = d.request("PUT", "/v1/panels/2020-01", PANEL, dict(CSV, Origin=dash))
        check_eq(status, 200)
        check_eq(h.get("access-control-allow-origin"), dash)
        check("X-Request-Id" in h.get("access-control-expose-headers", ""), h)
        status, h, _ = d.request("GET", "/v1/panels", headers={"Origin": dash,
                                                              "Authorization": "Bearer x"})
        check_eq((status, h.get("access-control-allow-origin")), (401, dash))
        status, h, _ = d.request("GET", "/v1/panels", headers={"Origin": "https://evil.example"})
        check_eq((status, h.get("vary")), (200, "Origin"))
        check("access-control-allow-origin" not in h, h)


@test
def bad_policy_config_is_refused_naming_the_key():
    with Daemon(start=False) as d:
        for line, text in (("auth = maybe", "auth"), ("cors_origins = dash.example", "origin"),
                           ("allowed_hosts = a b", "allowed_hosts"),
                           ("log_format = xml", "log_format")):
            d.write_config(line + "\n")
            proc = d.cli("serve", "--port", "0", "--db", d.db_path, "--config", d.config_path,
                         check=False, timeout=30)
            check(proc.returncode == 1 and text in proc.stderr, (line, proc.stderr))


if __name__ == "__main__":
    run()
