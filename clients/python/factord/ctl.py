"""factorctl: the factord client on the command line.

    factorctl monthly --config FILE [--month YYYY-MM] [--force] [--dry-run]
        the monthly job (factord/monthly.py; docs/operations.md)
    factorctl get PATH                     print the daemon's answer (JSON pretty-printed)
    factorctl post|put PATH [JSON | @FILE [CONTENT-TYPE]]
    factorctl delete PATH

FACTORD_URL (default http://127.0.0.1:8080) and FACTORD_TOKEN name the daemon and the bearer
token; --url overrides FACTORD_URL. Exit status: 0 done, 1 the daemon or the job failed
(the message names the HTTP status and error code), 2 bad usage or config."""
import argparse
import os
import json
import sys

from . import monthly
from .client import Client
from .transport import FactordError


def _raw(args):
    c = Client(args.url)
    body, ctype = None, None
    if args.body is not None:
        if args.body.startswith("@"):
            ctype = args.content_type or "text/csv"
            out = c.put_file(args.path, args.body[1:], ctype, method=args.command.upper())
            return _print(out)
        else:
            try:
                body = json.loads(args.body)
            except ValueError as e:
                print(f"factorctl: the body is not JSON ({e}); use @FILE for a file", file=sys.stderr)
                return 2
    return _print(c.request(args.command.upper(), args.path, body, ctype))


def _print(out):
    if isinstance(out, (dict, list)):
        print(json.dumps(out, indent=2))
    elif isinstance(out, bytes):
        sys.stdout.buffer.write(out)
    elif out is not None:
        sys.stdout.write(out)
    return 0


def parser():
    p = argparse.ArgumentParser(prog="factorctl", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--url", help="the daemon (default $FACTORD_URL or http://127.0.0.1:8080)")
    sub = p.add_subparsers(dest="command", required=True)
    m = sub.add_parser("monthly", help="push the month's data, refit or roll, score, write CSV",
                       description=monthly.__doc__.split("\n\n")[0])
    m.add_argument("--config", required=True, help="the job's INI file")
    m.add_argument("--month", help="characteristics month YYYY-MM (default: last month)")
    m.add_argument("--force", action="store_true", help="redo a month already done")
    m.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    for name in ("get", "delete"):
        s = sub.add_parser(name, help=f"{name.upper()} PATH")
        s.add_argument("path")
        s.set_defaults(body=None, content_type=None)
    for name in ("post", "put"):
        s = sub.add_parser(name, help=f"{name.upper()} PATH [JSON | @FILE [CONTENT-TYPE]]")
        s.add_argument("path")
        s.add_argument("body", nargs="?")
        s.add_argument("content_type", nargs="?")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        if args.command == "monthly":
            if args.url:
                os.environ["FACTORD_URL"] = args.url
            return monthly.run(args.config, args.month, args.force, args.dry_run)
        return _raw(args)
    except monthly.ConfigError as e:
        print(f"factorctl: config: {e}", file=sys.stderr)
        return 2
    except FactordError as e:
        print(f"factorctl: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"factorctl: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
