"""The monthly job (`factorctl monthly`): push a month's data, build the panels, refit or
roll the configured models, score them and write the outputs as CSV with the version used.

Month M is the characteristics month: its panel holds characteristics known at the end of M
and the returns realised during M, and the scores written forecast M+1. By default M is the
calendar month before today (the timer runs early in the following month).

The config is an INI file (docs/operations.md, etc/factord-monthly.conf):

    [daemon]
    url = http://127.0.0.1:8080           ; FACTORD_URL overrides; the token comes from
                                          ; FACTORD_TOKEN or token_file
    [data]
    prices = /srv/feed/bars-{month}.csv.gz  ; daily bars -> PUT /v1/prices + panel build
    panel = /srv/feed/panel-{month}.csv     ; or the month's panel itself (CSV or JSON)
    factors = /srv/feed/F-F_Research_Data_Factors.csv
    factors_units = percent
    factors_format = french
    [output]
    dir = /var/lib/factord-monthly          ; files go to dir/M/
    [model demo-ipca]
    action = roll            ; roll (a window of train_months), refit (from train_from) or score
    train_months = 60
    valid_months = 12
    label = stable           ; moved to the new version, then used for scoring
    outputs = expected-returns, betas, deciles

Every step is logged on stdout. The job is idempotent: a month whose manifest.json exists is
skipped (--force redoes it), and a version already trained on the same windows is reused
rather than trained again. Any failure stops the job with a non-zero exit status and a
message naming the step."""
import configparser
import datetime
import json
import os
import tempfile

from .client import Client
from .frames import month_text
from .transport import FactordError

ACTIONS = ("roll", "refit", "score")
OUTPUTS = ("expected-returns", "betas", "deciles")
MODEL_KEYS = {"action", "train_months", "train_from", "valid_months", "label", "outputs",
              "deciles_n", "weighting"}
SECTION_KEYS = {"daemon": {"url", "token_file"},
                "data": {"prices", "panel", "factors", "factors_units", "factors_format"},
                "output": {"dir"}}


class ConfigError(ValueError):
    pass


def add_months(month, n):
    y, m = int(month[:4]), int(month[5:7]) - 1 + n
    return f"{y + m // 12:04d}-{m % 12 + 1:02d}"


def previous_month(today=None):
    today = today or datetime.date.today()
    return add_months(f"{today.year:04d}-{today.month:02d}", -1)


def _int(section, key, default, lo, hi):
    try:
        v = section.getint(key, fallback=default)
    except ValueError:
        raise ConfigError(f"[{section.name}] {key}: expected an integer, got "
                          f"{section.get(key)!r}") from None
    if v is not None and not lo <= v <= hi:
        raise ConfigError(f"[{section.name}] {key}: expected {lo}..{hi}, got {v}")
    return v


def _check_month(text, where):
    try:
        datetime.date(int(text[:4]), int(text[5:7]), 1)
        ok = len(text) == 7 and text[4] == "-"
    except ValueError:
        ok = False
    if not ok:
        raise ConfigError(f"{where}: expected YYYY-MM, got {text!r}")
    return text


def load_config(path):
    """Parses and validates the job's config; returns a dict. Raises ConfigError naming the
    section and key at fault."""
    cp = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=(";", "#"))
    try:
        with open(path) as f:
            cp.read_file(f)
    except (OSError, configparser.Error) as e:
        raise ConfigError(f"{path}: {e}") from None
    cfg = {"daemon": {}, "data": {}, "output": {}, "models": []}
    for name in cp.sections():
        sec = cp[name]
        if name.startswith("model "):
            model = name[len("model "):].strip()
            unknown = set(sec) - MODEL_KEYS
            if not model or unknown:
                raise ConfigError(f"[{name}]: " + (f"unknown key(s) {', '.join(sorted(unknown))}"
                                                   if model else "needs a model name"))
            action = sec.get("action", "score")
            if action not in ACTIONS:
                raise ConfigError(f"[{name}] action: expected one of {', '.join(ACTIONS)}, got {action!r}")
            outputs = [o.strip() for o in sec.get("outputs", ",".join(OUTPUTS)).split(",") if o.strip()]
            bad = [o for o in outputs if o not in OUTPUTS]
            if bad:
                raise ConfigError(f"[{name}] outputs: unknown {', '.join(bad)} (expected {', '.join(OUTPUTS)})")
            m = {"name": model, "action": action, "label": sec.get("label") or None,
                 "outputs": outputs, "valid_months": _int(sec, "valid_months", 12, 0, 600),
                 "train_months": _int(sec, "train_months", None, 1, 1200),
                 "train_from": sec.get("train_from"),
                 "deciles_n": _int(sec, "deciles_n", 10, 2, 100),
                 "weighting": sec.get("weighting", "equal")}
            if m["weighting"] not in ("equal", "value"):
                raise ConfigError(f"[{name}] weighting: expected equal or value")
            if action == "roll" and m["train_months"] is None:
                raise ConfigError(f"[{name}] action = roll needs train_months")
            if action == "refit":
                if not m["train_from"]:
                    raise ConfigError(f"[{name}] action = refit needs train_from (YYYY-MM)")
                _check_month(m["train_from"], f"[{name}] train_from")
            cfg["models"].append(m)
        elif name in SECTION_KEYS:
            unknown = set(sec) - SECTION_KEYS[name]
            if unknown:
                raise ConfigError(f"[{name}]: unknown key(s) {', '.join(sorted(unknown))}")
            cfg[name] = dict(sec)
        else:
            raise ConfigError(f"[{name}]: unknown section (expected daemon, data, output, "
                              "model NAME)")
    if not cfg["models"]:
        raise ConfigError(f"{path}: no [model NAME] section: nothing to do")
    if not cfg["output"].get("dir"):
        raise ConfigError("[output] dir is required")
    return cfg


def windows(m, month):
    """The training request for model config m at month M, or None for action = score."""
    if m["action"] == "score":
        return None
    v = m["valid_months"]
    train_to = add_months(month, -v)
    train_from = m["train_from"] if m["action"] == "refit" else add_months(train_to, 1 - m["train_months"])
    if train_from > train_to:
        raise ConfigError(f"[model {m['name']}] train_from {train_from} is after {train_to} "
                          f"(month {month} minus {v} validation months)")
    body = {"train": {"from": train_from, "to": train_to}}
    if v:
        body["valid"] = {"from": add_months(train_to, 1), "to": month}
    return body


def _write_atomic(path, text):
    d = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _deciles_csv(doc):
    lines = ["id,er,portfolio,weight"]
    for s in doc["securities"]:
        lines.append(",".join("" if s[k] is None else repr(s[k]) if isinstance(s[k], float)
                              else str(s[k]) for k in ("id", "er", "portfolio", "weight")))
    return "\n".join(lines) + "\n"


class MonthlyJob:
    def __init__(self, cfg, month, client=None, log=print, force=False):
        self.cfg, self.month, self.force, self.log = cfg, month, force, log
        token = None
        tf = cfg["daemon"].get("token_file")
        if tf and not os.environ.get("FACTORD_TOKEN"):
            with open(tf) as f:
                token = f.read().strip()
        self.c = client or Client(os.environ.get("FACTORD_URL") or cfg["daemon"].get("url"), token)
        self.out_dir = os.path.join(cfg["output"]["dir"], month)

    def _path(self, key):
        p = self.cfg["data"].get(key)
        return p.replace("{month}", self.month) if p else None

    def push_data(self):
        d = self.cfg["data"]
        factors = self._path("factors")
        if factors:
            params = {"units": d.get("factors_units", "decimal"), "format": d.get("factors_format")}
            r = self.c.put_file("/v1/factors", factors, "text/csv", params=params)
            self.log(f"factors: {factors}: {r.get('months')} months")
        prices = self._path("prices")
        if prices:
            r = self.c.put_file("/v1/prices", prices, "text/csv")
            self.log(f"daily bars: {prices}: {r.get('rows')} rows")
            r = self.c.build_panels(progress=None)
            self.log(f"panels built: {r.get('months')} months {r.get('first_month')}..{r.get('last_month')}")
        panel = self._path("panel")
        if panel:
            base = panel[:-3] if panel.endswith(".gz") else panel
            ctype = "application/json" if base.endswith(".json") else "text/csv"
            r = self.c.put_file(f"/v1/panels/{self.month}", panel, ctype)
            self.log(f"panel {self.month}: {panel}: {r.get('rows')} securities")
        try:
            self.c.get(f"/v1/panels/{self.month}")
        except FactordError as e:
            if e.status == 404:
                raise FactordError(404, "no_panel", f"no panel for {self.month} is stored after "
                                   "pushing the data: check [data] in the config") from None
            raise

    def fit(self, m):
        """Trains (or reuses) the version for model config m; returns its number or None."""
        body = windows(m, self.month)
        if body is None:
            return None
        for v in self.c.get(f"/v1/models/{m['name']}/versions")["versions"]:
            if v.get("state") == "ready" and v.get("train") == body["train"] and \
                    v.get("valid") == body.get("valid"):
                self.log(f"{m['name']}: version {v['version']} already trained on "
                         f"{body['train']['from']}..{body['train']['to']}: reused")
                return v["version"]
        self.log(f"{m['name']}: {m['action']}: training on {body['train']['from']}.."
                 f"{body['train']['to']}" + (f", validation {body['valid']['from']}.."
                                             f"{body['valid']['to']}" if "valid" in body else ""))
        job = self.c.post(f"/v1/models/{m['name']}/train", body)["job"]
        job = self.c.wait_job(job["id"], check=True)
        version = job["result"]["version"]
        self.log(f"{m['name']}: version {version} trained (job {job['id']})")
        return version

    def resolve(self, m, trained):
        """The version number to score with: the new one (moving the label to it), the
        label's, or the latest ready one."""
        name, label = m["name"], m["label"]
        if trained is not None:
            if label:
                self.c.set_label(name, label, trained)
                self.log(f"{name}: label {label} -> version {trained}")
            return trained
        if label:
            labels = self.c.labels(name)
            if label not in labels:
                raise FactordError(404, "no_label", f"model {name} has no label {label!r} to score with")
            return labels[label]
        return self.c.get(f"/v1/models/{name}")["model"]["latest_version"]

    def score(self, m, version):
        files = {}
        name, q = m["name"], {"month": self.month, "version": version}
        for what in m["outputs"]:
            fname = f"{name}.v{version}.{what}.csv"
            if what == "deciles":
                doc = self.c.get(f"/v1/models/{name}/deciles",
                                 dict(q, n=m["deciles_n"], weighting=m["weighting"]))
                text = _deciles_csv(doc)
            else:
                text = self.c.get(f"/v1/models/{name}/{what}", q, accept="text/csv")
            _write_atomic(os.path.join(self.out_dir, fname), text)
            files[what] = fname
        self.log(f"{name}: version {version} scored at {self.month} (forecasts for "
                 f"{add_months(self.month, 1)}): {', '.join(files.values())}")
        return files

    def run(self):
        manifest_path = os.path.join(self.out_dir, "manifest.json")
        if os.path.exists(manifest_path) and not self.force:
            self.log(f"month {self.month} already done ({manifest_path}); --force redoes it")
            return 0
        self.log(f"monthly job for {self.month} against {self.c.url}")
        self.push_data()
        os.makedirs(self.out_dir, exist_ok=True)
        manifest = {"month": self.month, "forecast_month": add_months(self.month, 1),
                    "daemon": self.c.url, "models": []}
        for m in self.cfg["models"]:
            version = self.resolve(m, self.fit(m))
            manifest["models"].append({"model": m["name"], "action": m["action"],
                                       "version": version, "label": m["label"],
                                       "files": self.score(m, version)})
        manifest["finished_at"] = datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        _write_atomic(manifest_path, json.dumps(manifest, indent=2) + "\n")
        self.log(f"done: {manifest_path}")
        return 0


def run(config_path, month=None, force=False, dry_run=False, log=print):
    cfg = load_config(config_path)
    month = _check_month(month_text(month), "--month") if month else previous_month()
    if dry_run:
        for m in cfg["models"]:
            w = windows(m, month)
            log(f"{m['name']}: {m['action']}: " + (json.dumps(w) if w else "no training") +
                f"; label {m['label'] or '(none)'}; outputs {', '.join(m['outputs'])}")
        return 0
    return MonthlyJob(cfg, month, log=log, force=force).run()
