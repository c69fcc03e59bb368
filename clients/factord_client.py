#!/usr/bin/python3
"""A small standard-library client for the factord HTTP API.

As a module:
    from factord_client import Client
    c = Client("http://127.0.0.1:8080")
    c.put_file("/v1/prices", "bars.csv", "text/csv")
    job = c.post("/v1/models/ipca/train", {"train": {"from": "2006-02", "to": "2012-12"}})
    c.wait_job(job["job"]["id"], progress=print)

From the command line:
    factord_client.py [--url URL] get PATH
    factord_client.py [--url URL] post|put PATH [JSON | @FILE [CONTENT-TYPE]]
    factord_client.py [--url URL] delete PATH
Errors come back as FactordError with the daemon's {"error":{"code","message"}}.
"""
import gzip
import http.client
import json
import sys
import time
import urllib.parse


class FactordError(Exception):
    def __init__(self, status, code, message):
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class Client:
    def __init__(self, url="http://127.0.0.1:8080", timeout=600):
        u = urllib.parse.urlparse(url)
        self.host, self.port, self.timeout = u.hostname, u.port or 80, timeout

    def request(self, method, path, body=None, content_type=None, accept="application/json"):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        headers = {"Accept": accept}
        if isinstance(body, (dict, list)):
            body, content_type = json.dumps(body).encode(), "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        if resp.status >= 400:
            try:
                err = json.loads(data)["error"]
            except (ValueError, KeyError, TypeError):
                err = {"code": "http_error", "message": data[:200].decode(errors="replace")}
            raise FactordError(resp.status, err.get("code"), err.get("message"))
        ctype = resp.getheader("Content-Type", "")
        return json.loads(data) if "json" in ctype and data else data

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def delete(self, path):
        return self.request("DELETE", path)

    def put_file(self, path, filename, content_type, method="PUT"):
        """Uploads a file (transparently gunzipping *.gz)."""
        opener = gzip.open if filename.endswith(".gz") else open
        with opener(filename, "rb") as fh:
            return self.request(method, path, fh.read(), content_type)

    def wait_job(self, job_id, progress=None, poll=0.5):
        """Polls a job until it ends; calls progress(job) on every poll; returns the job."""
        while True:
            job = self.get(f"/v1/jobs/{job_id}")["job"]
            if progress:
                progress(job)
            if job["state"] in ("succeeded", "failed", "cancelled"):
                return job
            time.sleep(poll)


def main(argv):
    url = "http://127.0.0.1:8080"
    if len(argv) > 2 and argv[1] == "--url":
        url, argv = argv[2], argv[:1] + argv[3:]
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    c, method, path = Client(url), argv[1].upper(), argv[2]
    body, ctype = None, None
    if len(argv) > 3:
        if argv[3].startswith("@"):
            opener = gzip.open if argv[3].endswith(".gz") else open
            with opener(argv[3][1:], "rb") as fh:
                body = fh.read()
            ctype = argv[4] if len(argv) > 4 else "text/csv"
        else:
            body = json.loads(argv[3])
    try:
        out = c.request(method, path, body, ctype)
    except FactordError as e:
        print(e, file=sys.stderr)
        return 1
    print(json.dumps(out, indent=2) if not isinstance(out, bytes) else out.decode())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
