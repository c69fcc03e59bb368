"""A PEP 517 build backend for the factord client, standard library only.

pip builds a package in an isolated environment into which it would first download the
backend named in pyproject.toml (setuptools, flit, ...). The machines factord runs on reach
no Python package index, so this backend ships beside the package (`backend-path`): it packs
factord/*.py, the metadata from pyproject.toml's [project] table and the console scripts
into a pure-Python wheel (py3-none-any), an editable wheel (a .pth file pointing here) or
an sdist. Nothing is compiled."""
import base64
import hashlib
import io
import os
import tarfile
import tomllib
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "factord"


def _project():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)["project"]


def _metadata(p):
    lines = ["Metadata-Version: 2.1", f"Name: {p['name']}", f"Version: {p['version']}",
             f"Summary: {p.get('description', '')}"]
    if "requires-python" in p:
        lines.append(f"Requires-Python: {p['requires-python']}")
    if "license" in p:
        lines.append(f"License: {p['license'].get('text', '')}")
    for extra, reqs in p.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {r}; extra == "{extra}"' for r in reqs]
    return ("\n".join(lines) + "\n").encode()


def _dist_info(p):
    return f"{p['name']}-{p['version']}.dist-info"


def _package_files():
    """(archive name, path) of every module of the package, sorted."""
    out = []
    for d, dirs, files in os.walk(os.path.join(ROOT, PACKAGE)):
        dirs[:] = sorted(x for x in dirs if x != "__pycache__")
        out += [(os.path.relpath(os.path.join(d, f), ROOT), os.path.join(d, f))
                for f in sorted(files) if f.endswith(".py")]
    return out


def _write_wheel(directory, p, members):
    """Writes members {archive name: bytes} plus the dist-info files; returns the name."""
    di = _dist_info(p)
    members = dict(members)
    members[f"{di}/METADATA"] = _metadata(p)
    members[f"{di}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: factord_build\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    scripts = p.get("scripts", {})
    if scripts:
        members[f"{di}/entry_points.txt"] = ("[console_scripts]\n" + "".join(
            f"{k} = {v}\n" for k, v in scripts.items())).encode()
    record = []
    for name, data in members.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{di}/RECORD,,")
    members[f"{di}/RECORD"] = ("\n".join(record) + "\n").encode()
    name = f"{p['name']}-{p['version']}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(directory, name), "w", zipfile.ZIP_DEFLATED) as z:
        for arc, data in members.items():
            z.writestr(arc, data)
    return name


def get_requires_for_build_wheel(config_settings=None):
    return []


get_requires_for_build_sdist = get_requires_for_build_editable = get_requires_for_build_wheel


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    members = {}
    for arc, path in _package_files():
        with open(path, "rb") as f:
            members[arc] = f.read()
    return _write_wheel(wheel_directory, _project(), members)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """An editable install: a .pth file putting this directory on sys.path."""
    return _write_wheel(wheel_directory, _project(), {f"_{PACKAGE}_editable.pth":
                                                      (ROOT + "\n").encode()})


def build_sdist(sdist_directory, config_settings=None):
    p = _project()
    base = f"{p['name']}-{p['version']}"
    name = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as t:
        for rel in ["pyproject.toml", "build_backend/factord_build.py"] + \
                [arc for arc, _ in _package_files()]:
            t.add(os.path.join(ROOT, rel), arcname=f"{base}/{rel}")
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        data = _metadata(p)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return name
