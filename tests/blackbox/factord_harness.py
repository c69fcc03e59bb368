"""Black-box test harness: start the real factord, speak HTTP to it, stop it.

Standard library only. Import it from a test in tests/blackbox/:

    import os, sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from factord_harness import Daemon, test, run, check, check_eq

    @test
    def livez_answers():
        with Daemon() as d:
            status, headers, body = d.request("GET", "/livez")
            check_eq(status, 200)
            check_eq(d.json("GET", "/livez")[1], {"status": "ok"})

    if __name__ == "__main__":
        run()

Daemon(args=(), config=None, env=None, debug_routes=False, db_dir=None, auth=None,
       validate=False)
    Starts `$FACTORD_BIN serve` (default build/factord) on 127.0.0.1, port 0, with
    --port-file and --db in a fresh temporary directory (or db_dir), waits until /livez
    answers and keeps stderr in d.log_path. `args` are extra serve flags; `config` is the
    text of a config file passed with --config (d.config_path; rewrite it with
    d.write_config(text) before d.hup()); `env` adds environment variables;
    debug_routes=True sets FACTORD_DEBUG_ROUTES=1 (GET /v1/debug/sleep?ms=N,
    POST /v1/debug/echo, PUT /v1/debug/spool).
    auth=True runs the daemon with `auth = required` (added to the config) and an admin
    token made with `factord token create` before start (d.token), which every request
    sends as "Authorization: Bearer ..." unless the call gives its own Authorization
    header (or d.token is set to None). auth=None (the default) takes FACTORD_TEST_AUTH=1
    from the environment, so the whole suite can be run with tokens.
    validate=True checks every answer against the API description (docs/openapi.json,
    with Debian's python3-jsonschema): the operation must be described, the status listed
    (or covered by its default error response), the Content-Type one the response names and
    a JSON body valid against its schema; FACTORD_TEST_VALIDATE=1 turns it on for every
    Daemon. api_spec().check(method, path, status, headers, body) does the same by hand.
    Use as a context manager (stops on exit, killing if the test failed) or call start().

  d.port, d.db_path, d.dir, d.proc, d.token
  d.cli(*args, check=True) -> CompletedProcess of `factord ARGS` (text stdout/stderr).
  d.create_token(name, scopes) -> a new token ("read,ingest", ...) for d's database.
  d.request(method, path, body=None, headers=None, timeout=30)
        -> (status, headers, body bytes); headers is a dict with lower-case names.
        body may be bytes, str, or a dict/list (sent as JSON with Content-Type set).
  d.json(method, path, body=None, headers=None) -> (status, parsed JSON or None, headers)
  d.get_json(path) -> (status, parsed JSON)
  d.wait_job(job_id, want="succeeded") -> the job once it ended in state `want`.
  d.check_error(status, body_or_parsed, want_status, want_code=None)
        asserts the {"error":{"code","message"}} shape and returns the error object.
  d.log() -> the daemon's stderr so far (str); d.wait_log(text, timeout) waits for it.
  d.hup(), d.term()  send SIGHUP / SIGTERM.
  d.stop(timeout=30)  SIGTERM, wait, assert exit status 0 (returns the log).
  d.kill9()           SIGKILL and wait (for crash tests).
  d.restart(args=None) start again on the same database and directory.
  d.wait_exit(timeout) -> exit status.
  Daemon.cleanup() removes the temporary directory (done by the context manager).

free_port() -> a loopback TCP port that was free a moment ago.

Tests: decorate functions with @test (or @test("name")), then call run() from
__main__. Each test prints "PASS name" or "FAIL name: why"; run() exits 1 if any failed.
Command-line arguments to the test file select tests by name. check(cond, msg) and
check_eq(got, want, msg) raise AssertionError with both values.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FACTORD_BIN = os.environ.get("FACTORD_BIN", os.path.join(ROOT, "build", "factord"))
if not os.path.isabs(FACTORD_BIN):
    FACTORD_BIN = os.path.join(ROOT, FACTORD_BIN)

_tests = []


def test(arg):
    """Registers a test function, as @test or @test("name")."""
    if callable(arg):
        _tests.append((arg.__name__, arg))
        return arg

    def wrap(fn):
        _tests.append((arg, fn))
        return fn
    return wrap


SPEC_PATH = os.path.join(ROOT, "docs", "openapi.json")


class ApiSpec:
    """docs/openapi.json as a checker of answers (see Daemon(validate=True))."""

    def __init__(self, path=SPEC_PATH):
        import re
        with open(path) as f:
            self.doc = json.load(f)
        self.ops = []
        for template, item in self.doc["paths"].items():
            rx = re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$")
            for method, op in item.items():
                self.ops.append((method.upper(), rx, template, op))

    def operation(self, method, path):
        method = "GET" if method == "HEAD" else method
        path = path.split("?", 1)[0]
        for m, rx, template, op in self.ops:
            if m == method and rx.match(path):
                return template, op
        return None, None

    def schema_errors(self, schema, doc):
        import jsonschema
        wrapper = {"components": self.doc["components"], "allOf": [schema]}
        validator = jsonschema.Draft202012Validator(wrapper)
        return sorted(validator.iter_errors(doc), key=lambda e: list(e.path))

    def check(self, method, path, status, headers, body):
        if path.startswith("/v1/debug/"):  # test-only routes, not part of the API
            return
        template, op = self.operation(method, path)
        if method == "OPTIONS":  # answered by the request policy, not by an operation
            op = {"responses": {"204": {"description": "preflight or Allow"},
                                "default": {"$ref": "#/components/responses/Error"}}}
            template = path
        elif op is None:  # what no operation answers: 404 or 405 in the error shape
            check(status in (404, 405), "%s %s is not in docs/openapi.json (status %d)"
                  % (method, path, status))
            op = {"responses": {"default": {"$ref": "#/components/responses/Error"}}}
            template = path
        responses = op["responses"]
        resp = responses.get(str(status)) or responses.get("%dXX" % (status // 100))
        if resp is None:
            check(status >= 400 and "default" in responses,
                  "%s %s: status %d is not described" % (method, template, status))
            resp = responses["default"]
        if "$ref" in resp:
            resp = self.doc["components"]["responses"][resp["$ref"].rsplit("/", 1)[1]]
        if method == "HEAD" or status in (204, 304) or not body:
            return
        ctype = headers.get("content-type", "").split(";")[0].strip()
        content = resp.get("content", {})
        check(ctype in content, "%s %s %d: Content-Type %s not among %s"
              % (method, template, status, ctype, sorted(content)))
        if ctype == "application/json":
            errors = self.schema_errors(content[ctype].get("schema", {}), json.loads(body))
            check(not errors, "%s %s %d: the body does not match docs/openapi.json: %s"
                  % (method, template, status, "; ".join(
                      "%s: %s" % ("/".join(map(str, e.path)), e.message[:200]) for e in errors[:3])))


_spec = []


def api_spec():
    """The API description, loaded once."""
    if not _spec:
        _spec.append(ApiSpec())
    return _spec[0]


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago (for services a test starts)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def check(cond, msg="check failed"):
    if not cond:
        raise AssertionError(msg)


def check_eq(got, want, msg=""):
    if got != want:
        raise AssertionError("%s%r != %r" % (msg + ": " if msg else "", got, want))


def run():
    """Runs the registered tests (or those named on the command line); exits 1 on failure."""
    wanted = set(sys.argv[1:])
    failed = 0
    for name, fn in _tests:
        if wanted and name not in wanted:
            continue
        try:
            fn()
            print("PASS %s" % name, flush=True)
        except Exception as e:  # noqa: BLE001 - any exception fails the test
            failed += 1
            why = str(e) or e.__class__.__name__
            print("FAIL %s: %s" % (name, why.replace("\n", " | ")), flush=True)
            traceback.print_exc(file=sys.stdout)
    sys.exit(1 if failed else 0)


class Daemon:
    def __init__(self, args=(), config=None, env=None, debug_routes=False, db_dir=None,
                 start=True, auth=None, validate=False):
        self.dir = db_dir or tempfile.mkdtemp(prefix="factord-bb-")
        self._own_dir = db_dir is None
        self.db_path = os.path.join(self.dir, "factord.db")
        self.port_file = os.path.join(self.dir, "port")
        self.log_path = os.path.join(self.dir, "stderr.log")
        self.config_path = None
        self.args = list(args)
        self.env = dict(os.environ)
        self.env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        if debug_routes:
            self.env["FACTORD_DEBUG_ROUTES"] = "1"
        if env:
            self.env.update(env)
        if auth is None:
            auth = os.environ.get("FACTORD_TEST_AUTH") == "1"
        self.auth = bool(auth)
        self.validate = validate or os.environ.get("FACTORD_TEST_VALIDATE") == "1"
        self.token = (self.create_token("harness-%s" % os.urandom(4).hex(), "admin")
                      if self.auth else None)
        if config is not None or self.auth:
            self.config_path = os.path.join(self.dir, "factord.conf")
            self.write_config(config or "")
        self.proc = None
        self.port = None
        self._log = None
        if start:
            self.start()

    # -- life cycle -------------------------------------------------------------------
    def write_config(self, text):
        if self.config_path is None:
            self.config_path = os.path.join(self.dir, "factord.conf")
        if self.auth and not any(line.split("=")[0].strip() == "auth"
                                 for line in text.splitlines()):
            text = (text + ("\n" if text and not text.endswith("\n") else "")
                    + "auth = required\n")
        with open(self.config_path, "w") as f:
            f.write(text)

    def cli(self, *args, check=True, timeout=120):
        """Runs `factord ARGS`; returns the CompletedProcess (text output)."""
        proc = subprocess.run([FACTORD_BIN] + [str(a) for a in args], capture_output=True,
                              text=True, env=self.env, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError("factord %s exited %d: %s"
                                 % (" ".join(map(str, args)), proc.returncode, proc.stderr))
        return proc

    def create_token(self, name, scopes):
        """A new bearer token with `scopes` ("read,train") for this daemon's database."""
        out = self.cli("token", "create", "--db", self.db_path, "--name", name,
                       "--scopes", scopes).stdout.strip()
        check(out.startswith("fdt_"), "token create printed %r" % out)
        return out

    def start(self, timeout=30):
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        cmd = [FACTORD_BIN, "serve", "--port", "0", "--port-file", self.port_file,
               "--db", self.db_path]
        if self.config_path:
            cmd += ["--config", self.config_path]
        cmd += self.args
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=self._log, env=self.env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("factord exited with %s during start-up: %s"
                                     % (self.proc.returncode, self.log()[-2000:]))
            if os.path.exists(self.port_file):
                with open(self.port_file) as f:
                    text = f.read().strip()
                if text:
                    self.port = int(text)
                    try:
                        if self.request("GET", "/livez", timeout=5)[0] == 200:
                            return self
                    except OSError:
                        pass
            time.sleep(0.02)
        raise AssertionError("factord did not answer /livez within %ss: %s"
                             % (timeout, self.log()[-2000:]))

    def wait_exit(self, timeout=30):
        try:
            return self.proc.wait(timeout)
        finally:
            if self._log:
                self._log.close()
                self._log = None

    def term(self):
        self.proc.send_signal(signal.SIGTERM)

    def hup(self):
        self.proc.send_signal(signal.SIGHUP)

    def stop(self, timeout=30):
        """SIGTERM and wait; asserts exit status 0. Returns the log."""
        if self.proc is None or self.proc.poll() is not None:
            rc = self.proc.returncode if self.proc else 0
        else:
            self.term()
            try:
                rc = self.wait_exit(timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
                raise AssertionError("factord did not stop within %ss after SIGTERM" % timeout)
        self.proc_done()
        check_eq(rc, 0, "exit status after SIGTERM (log: %s)" % self.log()[-3000:])
        return self.log()

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        self.proc_done()

    def proc_done(self):
        if self._log:
            self._log.close()
            self._log = None

    def restart(self, args=None):
        if self.proc and self.proc.poll() is None:
            self.stop()
        if args is not None:
            self.args = list(args)
        return self.start()

    def cleanup(self):
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.stop()
            else:
                self.kill9()
        finally:
            self.cleanup()
        return False

    # -- logs ---------------------------------------------------------------------------
    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_log(self, text, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return True
            time.sleep(0.02)
        raise AssertionError("log never showed %r: %s" % (text, self.log()[-2000:]))

    # -- HTTP ---------------------------------------------------------------------------
    def connection(self, timeout=30):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=30):
        headers = dict(headers or {})
        if self.token and not any(k.lower() == "authorization" for k in headers):
            headers["Authorization"] = "Bearer " + self.token
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
        conn = self.connection(timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
            if self.validate:
                api_spec().check(method, path, resp.status, hdrs, data)
            return resp.status, hdrs, data
        finally:
            conn.close()

    def json(self, method, path, body=None, headers=None, timeout=30):
        status, hdrs, data = self.request(method, path, body, headers, timeout)
        try:
            doc = json.loads(data) if data else None
        except ValueError:
            raise AssertionError("%s %s: %d with a body that is not JSON: %r"
                                 % (method, path, status, data[:300]))
        return status, doc, hdrs

    def wait_job(self, job_id, want="succeeded", timeout=120):
        """Polls GET /v1/jobs/{id} until the job ends; asserts its state; returns the job."""
        deadline = time.monotonic() + timeout
        while True:
            status, doc = self.get_json("/v1/jobs/%d" % job_id)
            check_eq(status, 200, doc)
            job = doc["job"]
            if job["state"] in ("succeeded", "failed", "cancelled"):
                check_eq(job["state"], want, job)
                return job
            if time.monotonic() > deadline:
                raise AssertionError("job %d still %s after %ss" % (job_id, job["state"], timeout))
            time.sleep(0.1)

    def get_json(self, path):
        status, doc, _ = self.json("GET", path)
        return status, doc

    def answer_to_head(self, head):
        """Sends only a request head (bytes, ending in a blank line) that announces a body,
        never the body, and returns (status line and headers, body) of the answer: only an
        answer given before the body is read can arrive."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=20)
        s.sendall(head)
        data = b""
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        head, _, body = data.partition(b"\r\n\r\n")
        return head, body

    @staticmethod
    def check_error(status, body, want_status, want_code=None):
        doc = json.loads(body) if isinstance(body, (bytes, str)) else body
        check_eq(status, want_status, "status (body %r)" % (doc,))
        check(isinstance(doc, dict) and isinstance(doc.get("error"), dict),
              "not an error document: %r" % (doc,))
        err = doc["error"]
        check(isinstance(err.get("code"), str) and isinstance(err.get("message"), str),
              "error needs string code and message: %r" % (err,))
        if want_code is not None:
            check_eq(err["code"], want_code, "error code (message %r)" % err["message"])
        return err
