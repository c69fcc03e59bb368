"""Version artifacts (issue 15): export a trained version as one file, import it into
another database (HTTP and CLI) and get identical answers; tampered, truncated, foreign and
mismatched artifacts are refused with a 4xx and store nothing."""
import hashlib
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from factord_harness import Daemon, check, check_eq, run, test  # noqa: E402

MAGIC = b"\x89FDA\r\n\x1a\n"
MONTHS = ["2020-%02d" % m for m in range(1, 13)]
ART = {"Content-Type": "application/vnd.factord.artifact"}


def panel(t, n=40):
    rows = ["id,ret,mktcap,a,b,c"]
    for i in range(n):
        a = ((i * 7 + t * 3) % n) / n
        b = ((i * 13 + t) % n) / n
        c = ((i * 5 + 2 * t) % n) / n
        ret = 0.02 * (a - 0.5) - 0.01 * (b - 0.5) + 0.001 * ((i * t) % 7 - 3)
        rows.append("S%02d,%r,%r,%r,%r,%r" % (i, ret, 1e6 * (1 + i), a, b, c))
    return "\n".join(rows) + "\n"


def put_panels(d):
    for t, m in enumerate(MONTHS):
        check_eq(d.json("PUT", "/v1/panels/" + m, panel(t), {"Content-Type": "text/csv"})[0], 200)


def train(d, decl, valid=True):
    check_eq(d.json("POST", "/v1/models", decl)[0], 201)
    body = {"train": {"from": "2020-02", "to": "2020-07"}}
    if valid:
        body["valid"] = {"from": "2020-08", "to": "2020-09"}
    st, js, _ = d.json("POST", "/v1/models/%s/train" % decl["name"], body)
    check_eq(st, 202, js)
    return d.wait_job(js["job"]["id"])["result"]["version"]


SCORING = ["/betas?month=2020-11", "/expected-returns?month=2020-11",
           "/deciles?month=2020-10&n=5", "/factors?from=2020-02&to=2020-12"]


def answers(d, model, version):
    """The scoring answers of a version without what names it (model, version, origin)."""
    out = {}
    for q in SCORING:
        st, doc = d.get_json("/v1/models/%s%s&version=%d" % (model, q, version))
        check_eq(st, 200, doc)
        for key in ("model", "version", "provenance"):
            doc.pop(key, None)
        out[q] = doc
    return out


def export(d, model, ref):
    st, h, data = d.request("GET", "/v1/models/%s/versions/%s/artifact" % (model, ref))
    check_eq(st, 200, data[:200])
    check_eq(h["content-type"], "application/vnd.factord.artifact")
    check(data.startswith(MAGIC), data[:16])
    return data


def header_of(data):
    (n,) = struct.unpack_from("<I", data, 12)
    return json.loads(data[16:16 + n])


def reseal(data):
    """Recomputes the trailing SHA-256, as someone who edits the file on purpose would."""
    return data[:-32] + hashlib.sha256(data[:-32]).digest()


_state = {}


def source():
    """A daemon with panels and two trained versions (IPCA with a validation block, CA1)."""
    if "a" not in _state:
        a = Daemon(validate=True)
        put_panels(a)
        _state["ipca"] = train(a, {"name": "ip", "kind": "ipca", "k": 2,
                                   "columns": ["a", "b", "c"]})
        _state["ca"] = train(a, {"name": "net", "kind": "ca1", "k": 2,
                                 "hyper": {"epochs": 3, "seed": 7}})
        _state["a"] = a
    return _state["a"]


@test
def http_round_trip_gives_identical_answers():
    a = source()
    for model, key in (("ip", "ipca"), ("net", "ca")):
        data = export(a, model, "latest")
        h = header_of(data)
        check_eq((h["format"], h["format_version"], h["model"]["name"], h["version"]["number"]),
                 ("factord-version-artifact", 1, model, _state[key]))
        check_eq(hashlib.sha256(data[:-32]).digest(), data[-32:])
        with Daemon(validate=True) as b:
            put_panels(b)
            st, js, hdrs = b.json("POST", "/v1/models/%s/versions" % model, data, ART)
            check_eq(st, 201, js)
            v = js["version"]
            check_eq((v["version"], v["state"], v["train"], v["valid"]),
                     (1, "ready", h["version"]["train"], h["version"]["valid"]))
            check_eq(v["origin"]["sha256"], hashlib.sha256(data[:-32]).hexdigest())
            check_eq((v["origin"]["source_model"], v["origin"]["source_version"]),
                     (model, _state[key]))
            check_eq(hdrs["location"], "/v1/models/%s/versions/1" % model)
            check_eq(v["fit_stats"], a.get_json("/v1/models/%s/versions/%d"
                                                % (model, _state[key]))[1]["version"]["fit_stats"])
            # The model was declared from the artifact.
            mb = b.get_json("/v1/models/" + model)[1]["model"]
            ma = a.get_json("/v1/models/" + model)[1]["model"]
            for k in ("kind", "k", "hyper", "columns", "excess_returns", "add_constant"):
                check_eq(mb[k], ma[k], k)
            check_eq(answers(b, model, 1), answers(a, model, _state[key]), model)
            # Exporting the imported version gives back the same sections.
            again = export(b, model, "1")
            check_eq(header_of(again)["version"]["origin"]["sha256"], v["origin"]["sha256"])
            na, nb = struct.unpack_from("<I", data, 12)[0], struct.unpack_from("<I", again, 12)[0]
            check_eq(again[16 + nb:-32], data[16 + na:-32], "weights and factors bytes")


@test
def cli_round_trip_and_inspect():
    a = source()
    path = os.path.join(a.dir, "ip.fdart")
    a.cli("artifact", "export", "--db", a.db_path, "--model", "ip", "--out", path)
    inspect = json.loads(a.cli("artifact", "inspect", path).stdout)
    with open(path, "rb") as f:
        data = f.read()
    check_eq(inspect["sha256"], hashlib.sha256(data[:-32]).hexdigest())
    check_eq(inspect["model"]["kind"], "ipca")
    with Daemon(validate=True) as b:
        put_panels(b)
        out = b.cli("artifact", "import", "--db", b.db_path, "--model", "copy", path).stdout
        check_eq(out.strip(), "1")
        check_eq(answers(b, "copy", 1), answers(a, "ip", _state["ipca"]))
        # A second import is the next version of the same model.
        check_eq(b.cli("artifact", "import", "--db", b.db_path, "--model", "copy",
                       path).stdout.strip(), "2")
        proc = b.cli("artifact", "export", "--db", b.db_path, "--model", "nope", check=False)
        check(proc.returncode == 1 and "no model" in proc.stderr, proc.stderr)
        proc = b.cli("artifact", "import", "--db", b.db_path, os.path.join(a.dir, "absent"),
                     check=False)
        check_eq(proc.returncode, 1)


def refused(b, data, status, code, model="ghost", headers=ART):
    st, js, _ = b.json("POST", "/v1/models/%s/versions" % model, data, headers)
    return b.check_error(st, js, status, code)


@test
def tampered_and_foreign_artifacts_are_refused_and_store_nothing():
    a = source()
    data = export(a, "ip", "latest")
    n = struct.unpack_from("<I", data, 12)[0]
    with Daemon(validate=True) as b:
        put_panels(b)
        flipped = bytearray(data)
        flipped[16 + n + 3] ^= 0x01  # one bit of the weights
        err = refused(b, bytes(flipped), 422, "bad_artifact")
        check("checksum" in err["message"], err)
        refused(b, data[:-1], 422, "bad_artifact")  # cut short
        refused(b, data[:20], 422, "bad_artifact")
        refused(b, b"id,ret\nA,1\n", 415, "not_an_artifact")
        future = bytearray(data)
        struct.pack_into("<I", future, 8, 2)
        refused(b, reseal(bytes(future)), 422, "unsupported_artifact")
        # Edited on purpose and resealed: the checks behind the checksum still hold.
        h = header_of(data)
        h["model"]["kind"] = "nope"
        text = json.dumps(h).encode()
        edited = data[:12] + struct.pack("<I", len(text)) + text + data[16 + n:-32]
        err = refused(b, reseal(edited + b"\0" * 32), 422, "bad_artifact")
        check("kind" in err["message"], err)
        h = header_of(data)
        h["sections"][0]["length"] = 3  # weights cut to 3 bytes
        text = json.dumps(h).encode()
        edited = data[:12] + struct.pack("<I", len(text)) + text + data[16 + n:-32]
        err = refused(b, reseal(edited + b"\0" * 32), 422, "bad_artifact")
        check("weights do not load" in err["message"], err)
        # What a cross-site form could send never reaches the parser.
        refused(b, data, 415, "unsupported_media_type", headers={"Content-Type": "text/plain"})
        # Nothing was stored: no model ghost, no versions.
        b.check_error(*b.get_json("/v1/models/ghost"), 404, "no_model")
        check_eq(b.get_json("/v1/models")[1]["models"], [])
        # An existing model of another kind or k is not silently extended.
        check_eq(b.json("POST", "/v1/models", {"name": "other", "kind": "pca", "k": 2})[0], 201)
        refused(b, data, 409, "model_mismatch", model="other")
        check_eq(b.get_json("/v1/models/other/versions")[1]["versions"], [])
        # The good artifact still imports.
        check_eq(b.json("POST", "/v1/models/ip/versions", data, ART)[0], 201)


@test
def export_addresses_versions_like_scoring_and_needs_a_ready_one():
    a = source()
    check_eq(a.json("PUT", "/v1/models/ip/labels/prod", {"version": _state["ipca"]})[0], 200)
    by_label, by_number = export(a, "ip", "prod"), export(a, "ip", str(_state["ipca"]))
    check_eq(header_of(by_label)["version"], header_of(by_number)["version"])
    check_eq(by_label[16 + struct.unpack_from("<I", by_label, 12)[0]:-32],
             by_number[16 + struct.unpack_from("<I", by_number, 12)[0]:-32])
    a.check_error(*a.get_json("/v1/models/ip/versions/99/artifact"), 404, "no_version")
    a.check_error(*a.get_json("/v1/models/none/versions/1/artifact"), 404)
    a.json("DELETE", "/v1/models/ip/labels/prod")


if __name__ == "__main__":
    try:
        run()
    finally:
        if "a" in _state:
            _state["a"].stop()
            _state["a"].cleanup()
