#!/usr/bin/env python3
"""Peak and resident memory of the daemon under hostile bodies (issue 17, fault 4).

Usage: bench/memory.py BUILD_DIR [CONFIG_TEXT]
       (or FACTORD_BIN=path/to/factord for another binary, e.g. an older build to compare)

Starts `factord serve` with the given config text (default: the built-in memory_limit and
request_memory_limit) and reports VmHWM (peak resident) and VmRSS (resident now) from
/proc after each case, every case in the same daemon, in this order:

  one       one 57 MB JSON panel of ["x",1,2,3] rows that ends in garbage (a 400 at best)
  four      four such bodies at once
  twelve    twelve 60 MB uploads that send half their body and stall
            (the figures while they are held)

Prints a table and the statuses answered. Standard library only.
"""
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROWS = 5_000_000
BODY = b'{"columns":["id","a","b","c"],"rows":[' + b'["x",1,2,3],' * ROWS + b"oops"


def memory_mb(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, value = line.split(":", 1)
            if key in ("VmHWM", "VmRSS"):
                out[key] = int(value.split()[0]) // 1024
    return out


def start(binary, config):
    d = tempfile.mkdtemp(prefix="factord-bench-mem-")
    conf = os.path.join(d, "factord.conf")
    with open(conf, "w") as f:
        f.write(config)
    port_file = os.path.join(d, "port")
    proc = subprocess.Popen([binary, "serve", "--port", "0", "--port-file", port_file, "--db",
                             os.path.join(d, "f.db"), "--config", conf],
                            stderr=open(os.path.join(d, "log"), "w"))
    for _ in range(300):
        if os.path.exists(port_file) and open(port_file).read().strip():
            return proc, int(open(port_file).read()), d
        time.sleep(0.05)
    raise SystemExit("factord did not start")


def put(port, body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    c.request("PUT", "/v1/panels/2020-01", body, {"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    return r.status


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    config = sys.argv[2].replace("\\n", "\n") if len(sys.argv) > 2 else ""
    binary = os.environ.get("FACTORD_BIN", os.path.join(build, "factord"))
    proc, port, d = start(binary, config)
    rows = [("start", memory_mb(proc.pid), "")]
    rows.append(("one", None, str(put(port, BODY))))
    rows[-1] = (rows[-1][0], memory_mb(proc.pid), rows[-1][2])
    statuses = []
    threads = [threading.Thread(target=lambda: statuses.append(put(port, BODY))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows.append(("four", memory_mb(proc.pid), " ".join(map(str, sorted(statuses)))))
    held = []
    half = b"x" * (30 << 20)
    for _ in range(12):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"PUT /v1/panels/2020-01 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                  b"application/json\r\nContent-Length: %d\r\n\r\n" % (60 << 20))
        try:
            s.settimeout(20)
            s.sendall(half)
        except OSError:
            pass
        held.append(s)
    time.sleep(2)
    answered = 0
    for s in held:
        s.setblocking(False)
        try:
            answered += bool(s.recv(1, socket.MSG_PEEK))
        except OSError:
            pass
    rows.append(("twelve", memory_mb(proc.pid), "%d refused while uploading" % answered))
    for s in held:
        s.close()
    proc.terminate()
    proc.wait(60)
    print("binary: %s; config: %r" % (binary, config))
    print("| case | peak RSS (VmHWM) MB | RSS now MB | answers |")
    print("|---|---:|---:|---|")
    for name, mem, note in rows:
        print("| %s | %d | %d | %s |" % (name, mem["VmHWM"], mem["VmRSS"], note))


if __name__ == "__main__":
    main()
