"""The repository explains itself: README, docs/, the headers, etc/factord.conf and every
`--help` name only files that exist; nothing cites a document outside the repository; the
README's layout table lists every sub-command and its API table every route the daemon
registers (src/http/router.c's fd_route_tables)."""
import glob
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from factord_harness import FACTORD_BIN, ROOT, check, run, test  # noqa: E402

# Extensions that make a bare word the name of a source file ("metrics.md", "fit_bench.c").
# Bare data names ("jk.csv") are often what a command writes, so only paths are checked
# for those.
EXT = r"(?:md|c|h|inc|py|sh|sql|conf|service)"
# A path (has a slash) or a bare file name, not inside a longer word, URL or $variable.
TOKEN = re.compile(r"(?<![\w./$~:@-])((?:\.\.?/)?[\w*.-]+(?:/[\w*.-]+)+/?|[\w*-]+(?:\.[\w-]+)*\."
                   + EXT + r")(?![\w/-])")
# Placeholders in names: <name> and the usual capitals (FILE.csv, migrations/NNNN_*.sql).
PLACEHOLDER = re.compile(r"<[\w-]+>|(?<![A-Za-z0-9])(?:FILE|PATH|DIR|NAME|CMD|NNNN)(?![A-Za-z0-9])")
# Shell braces in names: systemd/factord-monthly.{service,timer}.
BRACES = re.compile(r"([\w./*-]+)\{([\w.-]+(?:,[\w.-]+)+)\}([\w.*-]*)")
# Names of other projects that look like file names.
NOT_FILES = {"llm.c"}
MD_LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")
# Cited documents that are not part of the repository (spelled in two pieces so that this
# file does not cite them itself).
FOREIGN = ("DESIGN" + ".md", "../" + "shared", "/work/" + "shared")


def tracked():
    out = subprocess.run(["git", "-C", ROOT, "ls-files", "--cached", "--others",
                          "--exclude-standard"], capture_output=True, text=True)
    if out.returncode == 0 and out.stdout.strip():
        return out.stdout.split()
    files = []  # not a git checkout (a source tarball): walk the tree
    for d, dirs, names in os.walk(ROOT):
        dirs[:] = [x for x in dirs if not x.startswith("build") and x != ".git"]
        files += [os.path.relpath(os.path.join(d, n), ROOT) for n in names]
    return files


FILES = tracked()
TOP = {f.split("/")[0] for f in FILES} | {".."}
BASENAMES = {os.path.basename(f) for f in FILES}


def exists(path):
    """path relative to ROOT (a glob when it has a *) names a file or directory of the tree."""
    full = os.path.normpath(os.path.join(ROOT, path))
    if "*" in path:
        return bool(glob.glob(full))
    return os.path.exists(full)


def missing_names(text, where, base_dir=""):
    """Every file a text names that does not exist: paths starting at a top-level entry of
    the repository (or ../), bare file names matched against the tree's file names, and
    Markdown links relative to the document's directory."""
    bad = []
    text = "\n".join(x for x in text.splitlines() if not x.startswith("#include"))
    text = BRACES.sub(lambda m: " ".join(m.group(1) + x + m.group(3)
                                         for x in m.group(2).split(",")), text)
    for m in TOKEN.finditer(PLACEHOLDER.sub("*", text)):
        tok = m.group(1).rstrip(".")
        if tok in NOT_FILES:
            continue
        if "/" in tok:
            if tok.split("/")[0] in TOP and not exists(tok):
                bad.append(tok)
        elif "*" not in tok and tok not in BASENAMES:
            bad.append(tok)
    for m in MD_LINK.finditer(text):
        target = m.group(1)
        if re.match(r"[a-z]+:", target):
            continue
        if not exists(os.path.join(base_dir, target)):
            bad.append(target)
    return ["%s: %s" % (where, b) for b in sorted(set(bad))]


def help_texts():
    """{label: text} of `factord --help` and `factord CMD --help` for every sub-command."""
    top = subprocess.run([FACTORD_BIN, "--help"], capture_output=True, text=True, timeout=30)
    check(top.returncode == 0, "factord --help exited %d" % top.returncode)
    texts = {"factord --help": top.stdout}
    for cmd in commands(top.stdout):
        r = subprocess.run([FACTORD_BIN, cmd, "--help"], capture_output=True, text=True,
                           timeout=30)
        check(r.returncode == 0, "factord %s --help exited %d" % (cmd, r.returncode))
        texts["factord %s --help" % cmd] = r.stdout + r.stderr
    return texts


def commands(help_text):
    block = help_text.split("commands:", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in block.splitlines() if line.strip()]


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def documents():
    """(path, text) of the README, docs/*.md, the public headers and the sample config."""
    paths = ["README.md", "etc/factord.conf"]
    paths += sorted(f for f in FILES if f.startswith("docs/") and f.endswith(".md"))
    paths += sorted(f for f in FILES if f.startswith("include/factord/") and f.endswith(".h"))
    return [(p, read(p)) for p in paths]


def readme_section(title):
    text = read("README.md")
    start = text.index("\n## " + title)
    end = text.find("\n## ", start + 4)
    return text[start:end if end >= 0 else len(text)]


def registered_routes():
    """[(method, pattern)] of the tables listed in fd_route_tables, from their sources."""
    router = read("src/http/router.c")
    listed = re.search(r"fd_route_tables\[\]\s*=\s*\{(.*?)\};", router, re.S).group(1)
    names = re.findall(r"\b(fd_routes_\w+)", listed)
    check(names, "no route tables found in src/http/router.c")
    sources = "".join(read(f) for f in FILES if re.match(r"src/http/.*\.c$", f))
    routes = []
    for name in names:
        table = re.search(r"const fd_route %s\[\]\s*=\s*\{(.*?)\n\};" % name, sources, re.S)
        check(table, "route table %s not found in src/http/" % name)
        entries = re.findall(r'\{\s*"([A-Z]+)",\s*"([^"]+)"', table.group(1))
        check(entries, "route table %s has no routes" % name)
        routes += entries
    return routes


def normalise(path):
    return re.sub(r"\{[^}/]*\}", "{}", path.split("?")[0].rstrip("*"))


def expand_optional(path):
    """'/v1/models[/{m}]' -> ['/v1/models', '/v1/models/{m}']."""
    m = re.search(r"\[([^\]]*)\]", path)
    if not m:
        return [path]
    head, tail = path[:m.start()], path[m.end():]
    return expand_optional(head + tail) + expand_optional(head + m.group(1) + tail)


def api_rows():
    """[(set of methods, set of normalised paths)] of the README's HTTP API table rows."""
    rows = []
    for line in readme_section("HTTP API (v1)").splitlines():
        if not line.startswith("| `"):
            continue
        cell = re.split(r"(?<!\\)\|", line)[1]
        methods = set(re.findall(r"\b(GET|PUT|POST|DELETE|PATCH)\b", cell))
        paths = set()
        cell = re.sub(r"\[[?&][^\]]*\]", "", cell)  # optional query parts: [?from=&to=]
        for p in re.findall(r"(/[\w/{}\[\]*.-]*)", cell):
            paths.update(normalise(x) for x in expand_optional(p))
        rows.append((methods, paths))
    return rows


@test
def readme_docs_headers_and_help_name_only_files_that_exist():
    bad = []
    for path, text in documents():
        bad += missing_names(text, path, os.path.dirname(path))
    for label, text in help_texts().items():
        bad += missing_names(text, label)
    check(not bad, "names of files that do not exist: " + "; ".join(bad))


@test
def nothing_cites_documents_outside_the_repository():
    me = os.path.relpath(os.path.abspath(__file__), ROOT)
    bad = []
    for f in FILES:
        if f == me or not os.path.isfile(os.path.join(ROOT, f)):
            continue
        try:
            text = read(f)
        except UnicodeDecodeError:
            continue
        for n, line in enumerate(text.splitlines(), 1):
            bad += ["%s:%d: %s" % (f, n, x) for x in FOREIGN if x in line]
    check(not bad, "citations of documents that are not in the repository: " + "; ".join(bad))


@test
def readme_layout_lists_every_sub_command():
    layout = readme_section("Layout")
    row = [line for line in layout.splitlines() if "`src/cli/`" in line]
    check(row, "the layout table has no src/cli/ row")
    top = subprocess.run([FACTORD_BIN, "--help"], capture_output=True, text=True, timeout=30)
    absent = [c for c in commands(top.stdout) if "`%s`" % c not in row[0]]
    check(not absent, "sub-commands missing from the README's layout table: %s" % absent)


@test
def readme_api_table_lists_every_route():
    rows = api_rows()
    absent = ["%s %s" % (method, pattern) for method, pattern in registered_routes()
              if not any(method in ms and normalise(pattern) in ps for ms, ps in rows)]
    check(not absent, "routes missing from the README's HTTP API table: %s" % absent)


@test
def the_checks_find_what_they_look_for():
    # The checkers themselves, on texts with known faults.
    got = missing_names("see docs/nope.md, `" + FOREIGN[0] + "`, [x](nothing.md) and "
                        "tests/blackbox/test_*.py, src/http/, text/csv, FILE.csv, "
                        "src/cli/cmd_<name>.c, migrations/NNNN_*.sql, docs/{design,nope2}.md\n"
                        "#include <stdio.h>",
                        "t", "docs")
    check(got == ["t: " + FOREIGN[0], "t: docs/nope.md", "t: docs/nope2.md", "t: nothing.md"],
          got)
    check(expand_optional("/v1/jobs[/{id}]") == ["/v1/jobs", "/v1/jobs/{id}"], "optional parts")
    check(api_rows(), "README API rows")
    check(normalise("/v1/models/{m}/betas?month=") == "/v1/models/{}/betas", "normalise")
    check(("GET", "/v1/compare") in registered_routes(), "route parsing")


if __name__ == "__main__":
    run()
