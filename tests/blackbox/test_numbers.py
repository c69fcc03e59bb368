"""Numbers print the same everywhere (issue 14): the shortest text that reads back exactly,
in model listings (jansson documents), panel bodies in JSON and CSV (streamed writers) and
job documents. 0.003 is "0.003", never "0.0030000000000000001"."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from factord_harness import Daemon, check, check_eq, run, test  # noqa: E402

VALUES = [0.003, 0.1, 0.30000000000000004, -0.0039, 2000.0, 1e-9, 1.5e300, 123456.789]


@test
def model_listing_prints_hyper_parameters_shortest():
    with Daemon() as d:
        st, js, _ = d.json("POST", "/v1/models", {"name": "m", "kind": "ca1", "k": 2,
                                                  "hyper": {"lr": 0.003, "l1": 1e-5}})
        check_eq(st, 201, str(js))
        for path in ("/v1/models/m", "/v1/models"):
            st, _, body = d.request("GET", path)
            text = body.decode()
            check_eq(st, 200, text)
            check('"lr":0.003' in text, text)
            check('"l1":0.00001' in text, text)
            check("0.0030000000000000001" not in text, text)


@test
def panel_bodies_print_each_value_as_its_shortest_text():
    with Daemon() as d:
        rows = [[f"S{i}", 0.01, 1e9, v] for i, v in enumerate(VALUES)]
        st, js, _ = d.json("PUT", "/v1/panels/2020-01",
                           {"columns": ["id", "ret", "mktcap", "x"], "rows": rows})
        check_eq(st, 200, str(js))
        st, _, body = d.request("GET", "/v1/panels/2020-01", headers={"Accept": "text/csv"})
        check_eq(st, 200)
        csv_x = [line.split(",")[-1] for line in body.decode().splitlines()[1:]]
        st, _, body = d.request("GET", "/v1/panels/2020-01")
        check_eq(st, 200)
        text = body.decode()
        # The JSON text of each row's last value, exactly as written.
        json_x = re.findall(r',([^,\]]+)\]', text)[-len(VALUES):]
        want = [repr(v) if v != 2000.0 else "2000" for v in VALUES]
        want = [w.replace("e-09", "e-9").replace("e+300", "e300") for w in want]
        check_eq(csv_x, want)
        check_eq(json_x, want)
        # And it reads back as the same doubles.
        back = {r[0]: r[-1] for r in json.loads(text)["rows"]}
        check_eq([back[f"S{i}"] for i in range(len(VALUES))], VALUES)


if __name__ == "__main__":
    run()
