"""Observability (issue 15): /metrics scraped by a real Prometheus server (Debian's
`prometheus`, started here on loopback with a generated config and a temporary storage
directory, stopped at the end) and its series checked through the HTTP query API;
`promtool check metrics` on the page; the access log in text and JSON; request ids."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from factord_harness import Daemon, check, check_eq, free_port, run, test  # noqa: E402

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def panel(month_index, n=30):
    rows = ["id,ret,mktcap,a,b"]
    for i in range(n):
        x = ((i * 7 + month_index * 3) % n) / n
        rows.append("S%02d,%r,%r,%r,%r" % (i, 0.01 * (x - 0.5) + 0.001 * month_index,
                                           1e6 * (1 + i), x, ((i * 13) % n) / n))
    return "\n".join(rows) + "\n"


MONTHS = ["2020-%02d" % m for m in range(1, 13)]


def populate(d):
    """Panels, a trained IPCA version and some scoring traffic."""
    for i, m in enumerate(MONTHS):
        check_eq(d.json("PUT", "/v1/panels/" + m, panel(i), {"Content-Type": "text/csv"})[0], 200)
    check_eq(d.json("POST", "/v1/models", {"name": "m", "kind": "ipca", "k": 1})[0], 201)
    st, js, _ = d.json("POST", "/v1/models/m/train", {"train": {"from": "2020-02", "to": "2020-10"}})
    check_eq(st, 202, js)
    d.wait_job(js["job"]["id"])
    for _ in range(3):
        check_eq(d.get_json("/v1/models/m/betas?month=2020-11")[0], 200)
    check_eq(d.get_json("/v1/models/m/expected-returns?month=2020-11")[0], 200)
    check_eq(d.get_json("/v1/nothing")[0], 404)


class Prometheus:
    """A Prometheus server on loopback scraping one target every second."""

    def __init__(self, target_port, token=None):
        self.dir = tempfile.mkdtemp(prefix="factord-prom-")
        self.port = free_port()
        auth = ("    authorization:\n      type: Bearer\n      credentials: %s\n" % token
                if token else "")
        with open(os.path.join(self.dir, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: factord\n" + auth +
                    "    static_configs:\n      - targets: ['127.0.0.1:%d']\n" % target_port)
        self.log = open(os.path.join(self.dir, "prometheus.log"), "wb")
        self.proc = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + os.path.join(self.dir, "prometheus.yml"),
             "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        self.wait(lambda: self.get("/-/ready") is not None, "Prometheus ready")

    def get(self, path):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.port, path),
                                        timeout=10) as r:
                return r.read()
        except OSError:
            if self.proc.poll() is not None:
                raise AssertionError("prometheus exited: %s" % self.logtext())
            return None

    def query(self, expr):
        body = self.get("/api/v1/query?query=" + urllib.parse.quote(expr))
        if body is None:
            return []
        doc = json.loads(body)
        check_eq(doc["status"], "success", doc)
        return doc["data"]["result"]

    def wait(self, cond, what, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if cond():
                return
            time.sleep(0.25)
        raise AssertionError("timed out waiting for %s: %s" % (what, self.logtext()))

    def value(self, expr):
        """The single value expr evaluates to, once Prometheus has one (polled)."""
        found = []
        self.wait(lambda: found.extend(self.query(expr)) or found, "a value for " + expr)
        return float(found[0]["value"][1])

    def logtext(self):
        try:
            with open(os.path.join(self.dir, "prometheus.log"), "rb") as f:
                return f.read().decode("utf-8", "replace")[-2000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@test
def promtool_accepts_the_metrics_page():
    with Daemon() as d:
        populate(d)
        status, hdrs, body = d.request("GET", "/metrics")
        check_eq(status, 200)
        check(hdrs["content-type"].startswith("text/plain; version=0.0.4"), hdrs)
        proc = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True,
                              timeout=60)
        check_eq((proc.returncode, proc.stdout + proc.stderr), (0, b""))
        text = body.decode()
        for family in ("factord_build_info", "factord_http_requests_total",
                       "factord_http_request_duration_seconds", "factord_model_requests_total",
                       "factord_jobs", "factord_job_duration_seconds",
                       "factord_training_epochs_total", "factord_db_size_bytes",
                       "process_cpu_seconds_total", "process_resident_memory_bytes",
                       "process_open_fds", "factord_cache_hits_total"):
            check("# TYPE %s " % family in text, "no family " + family)
        # Route templates, never raw paths.
        check("/v1/models/m/" not in text, "a raw path leaked into a label")


@test
def a_real_prometheus_scrapes_every_family_with_a_read_token():
    with Daemon(auth=True) as d:
        populate(d)
        reader = d.create_token("prometheus", "read")
        prom = Prometheus(d.port, reader)
        try:
            prom.wait(lambda: [r for r in prom.query('up{job="factord"}')
                               if r["value"][1] == "1"], "the target to be up")
            check_eq(prom.value('factord_build_info{job="factord"}'), 1.0)
            check(prom.value('sum(factord_http_requests_total{route="/v1/models/{model}/betas",'
                             'method="GET",code="200"})') >= 3, "betas counted by route")
            check(prom.value('factord_http_requests_total{route="unmatched",code="404"}') >= 1,
                  "404s under one unmatched route")
            check(prom.value('sum(factord_http_request_duration_seconds_count{'
                             'route="/v1/models/{model}/betas"})') >= 3, "latency counted")
            q = prom.value('histogram_quantile(0.5, sum by (le) (rate('
                           'factord_http_request_duration_seconds_bucket{route="/metrics"}[1m])))')
            check(q > 0, "a latency quantile from the buckets: %r" % q)
            check_eq(prom.value('factord_model_requests_total{model="m",version="1",'
                                'endpoint="betas"}'), 3.0)
            check_eq(prom.value('factord_jobs{kind="train",state="succeeded"}'), 1.0)
            check_eq(prom.value('factord_jobs{kind="train",state="failed"}'), 0.0)
            check_eq(prom.value('factord_job_duration_seconds_count{kind="train",'
                                'outcome="succeeded"}'), 1.0)
            check(prom.value('factord_training_epochs_total{kind="train"}') >= 1, "epochs")
            check(prom.value('process_resident_memory_bytes{job="factord"}') > 1e6, "RSS")
            check(prom.value('process_open_fds{job="factord"}') >= 3, "open fds")
            check(prom.value('process_cpu_seconds_total{job="factord"}') > 0, "CPU seconds")
            check(prom.value('factord_db_size_bytes{file="main"}') > 0, "database size")
            check(prom.value('factord_cache_hits_total{cache="design"}') >= 1, "cache hits")
            check(prom.value('factord_cache_misses_total{cache="design"}') >= 1, "cache misses")
        finally:
            prom.stop()
        # Without the token the scrape is refused like any other read.
        d.token, token = None, d.token
        d.check_error(*d.json("GET", "/metrics")[:2], 401, "unauthorized")
        d.token = token


@test
def access_log_lines_carry_the_request():
    with Daemon() as d:
        status, hdrs, _ = d.request("GET", "/v1/models?x=1&y=a%20b",
                                    headers={"X-Request-Id": "trace-42"})
        check_eq((status, hdrs.get("x-request-id")), (200, "trace-42"))
        status, hdrs, _ = d.request("GET", "/v1/nothing")
        generated = hdrs.get("x-request-id")
        check(generated and generated != "trace-42", hdrs)
        # An id with characters a log line must not carry is replaced.
        status, hdrs, _ = d.request("GET", "/livez", headers={"X-Request-Id": "a b\"c"})
        check(hdrs["x-request-id"] != 'a b"c', hdrs)
        d.wait_log("id=" + generated)
        line = [l for l in d.log().splitlines() if "id=trace-42" in l][0]
        for part in ("GET /v1/models?x=1&y=a%20b 200 ", "B ", "ms client=127.0.0.1:"):
            check(part in line, (part, line))
        line = [l for l in d.log().splitlines() if "id=" + generated in l][0]
        check(" /v1/nothing 404 " in line, line)


@test
def json_log_format_writes_one_object_per_line():
    with Daemon(config="log_format = json\n", auth=True) as d:
        d.request("PUT", "/v1/panels/2020-01", panel(0), {"Content-Type": "text/csv",
                                                          "X-Request-Id": "j-1"})
        d.request("GET", "/v1/panels?x=%0Aforged", headers={"X-Request-Id": "j-2"})
        d.wait_log('"request_id":"j-2"')
        lines = [json.loads(l) for l in d.log().splitlines() if l.startswith("{")]
        check(len(lines) >= 3 and all(l.get("time") and l.get("level") for l in lines), lines)
        check(any(l["msg"].startswith("listening on") for l in lines), lines)
        put = [l for l in lines if l.get("request_id") == "j-1"][0]
        check_eq((put["msg"], put["method"], put["path"], put["status"]),
                 ("request", "PUT", "/v1/panels/2020-01", 200))
        check(put["bytes"] > 0 and put["duration_ms"] >= 0, put)
        check(put["client"].startswith("127.0.0.1:"), put)
        check(put["token"].startswith("harness-"), put)
        get = [l for l in lines if l.get("request_id") == "j-2"][0]
        check_eq(get["query"], "x=%0Aforged")  # a newline cannot forge a line
        check(not any(l.startswith("forged") for l in d.log().splitlines()), "forged line")


if __name__ == "__main__":
    run()
