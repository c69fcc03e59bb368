"""HTTP transport for the factord client: standard library only.

One `Transport` per daemon: the base URL (FACTORD_URL, default http://127.0.0.1:8080), an
optional bearer token (FACTORD_TOKEN, sent as `Authorization: Bearer ...`) and a timeout.
Every answer with status >= 400 raises FactordError carrying the HTTP status and the
daemon's error code and message (`{"error":{"code","message"}}`); a daemon that cannot be
reached raises FactordConnectionError (a FactordError with status 0)."""
import http.client
import json
import os
import urllib.parse

DEFAULT_URL = "http://127.0.0.1:8080"


class FactordError(Exception):
    """An error answer from factord: .status (HTTP), .code (e.g. "bad_number"), .message."""

    def __init__(self, status, code, message):
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class FactordConnectionError(FactordError):
    """The daemon could not be reached (status 0, code "unreachable")."""

    def __init__(self, url, why):
        super().__init__(0, "unreachable", f"cannot reach factord at {url}: {why}")


def query_string(params):
    """'?a=1&b=x' from a dict, leaving out None values; '' when nothing is left."""
    kept = {k: v for k, v in (params or {}).items() if v is not None}
    return "?" + urllib.parse.urlencode(kept) if kept else ""


class Transport:
    def __init__(self, url=None, token=None, timeout=600):
        self.url = (url or os.environ.get("FACTORD_URL") or DEFAULT_URL).rstrip("/")
        self.token = token if token is not None else os.environ.get("FACTORD_TOKEN") or None
        self.timeout = timeout
        u = urllib.parse.urlparse(self.url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"factord URL must be http://host[:port] or https://..., got {self.url!r}")
        self._https = u.scheme == "https"
        self._host, self._port = u.hostname, u.port or (443 if self._https else 80)
        self._prefix = u.path.rstrip("/")

    def request(self, method, path, body=None, content_type=None, accept="application/json",
                params=None, headers=None):
        """Sends one request; returns parsed JSON for JSON answers, text for CSV and other
        text, bytes otherwise (None for an empty body). dict/list bodies go as JSON."""
        if isinstance(body, (dict, list)):
            body, content_type = json.dumps(body, allow_nan=False).encode(), "application/json"
        elif isinstance(body, str):
            body = body.encode()
        h = {"Accept": accept}
        if content_type:
            h["Content-Type"] = content_type
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        h.update(headers or {})
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        conn = cls(self._host, self._port, timeout=self.timeout)
        try:
            conn.request(method, self._prefix + path + query_string(params), body=body, headers=h)
            resp = conn.getresponse()
            data = resp.read()
        except OSError as e:
            raise FactordConnectionError(self.url, e) from None
        finally:
            conn.close()
        ctype = resp.getheader("Content-Type", "")
        if resp.status >= 400:
            try:
                err = json.loads(data)["error"]
                code, message = err.get("code"), err.get("message")
            except (ValueError, KeyError, TypeError, AttributeError):
                code, message = "http_error", data[:200].decode(errors="replace")
            raise FactordError(resp.status, code, message)
        if not data:
            return None
        if "json" in ctype:
            return json.loads(data)
        if ctype.startswith("text/"):
            return data.decode()
        return data

    def upload(self, method, path, filename, content_type, params=None):
        """Sends a file as the body, streamed from disk; a *.gz file goes as it is, with
        Content-Encoding: gzip (the daemon decompresses it while it streams in)."""
        headers = {"Content-Length": str(os.path.getsize(filename))}
        if filename.endswith(".gz"):
            headers["Content-Encoding"] = "gzip"
        with open(filename, "rb") as fh:
            return self.request(method, path, fh, content_type, params=params, headers=headers)
