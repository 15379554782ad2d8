"""Turn a database URL into libpq environment variables, as shell `export` lines.

    eval "$(python3 deployment/scripts/pgenv.py DATABASE_URL)"
    eval "$(python3 deployment/scripts/pgenv.py DATABASE_URL --dbname postgres)"

The URL is read from the environment variable named by the first argument, never from the
command line, so a password never shows up in `ps`. pg_dump, pg_restore and psql then
connect with PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE (and PGSSLMODE ... from the query
string). Accepts postgresql://, postgres:// and postgresql+psycopg2:// URLs. Standard
library only.
"""

import argparse
import os
import shlex
import sys
from urllib.parse import parse_qsl, unquote, urlsplit

SCHEMES = {"postgresql", "postgres", "postgresql+psycopg2"}
# Query parameters libpq understands, and the variables that carry them.
QUERY_VARIABLES = {
    "host": "PGHOST",
    "hostaddr": "PGHOSTADDR",
    "port": "PGPORT",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "dbname": "PGDATABASE",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "options": "PGOPTIONS",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "gssencmode": "PGGSSENCMODE",
    "channel_binding": "PGCHANNELBINDING",
}
ALL_VARIABLES = sorted(set(QUERY_VARIABLES.values()) | {"PGSERVICE", "PGSERVICEFILE"})


def libpq_environment(url, dbname=None):
    """The libpq variables for `url` (dbname replaced by `dbname` when given)."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ValueError(f"not a PostgreSQL URL (scheme {parts.scheme!r})")
    env = {}
    if parts.hostname:
        env["PGHOST"] = unquote(parts.hostname)
    if parts.port:
        env["PGPORT"] = str(parts.port)
    if parts.username:
        env["PGUSER"] = unquote(parts.username)
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    database = unquote(parts.path.lstrip("/"))
    if database:
        env["PGDATABASE"] = database
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key not in QUERY_VARIABLES:
            raise ValueError(f"unsupported connection parameter {key!r} in the URL")
        env[QUERY_VARIABLES[key]] = value
    if dbname:
        env["PGDATABASE"] = dbname
    if not env.get("PGDATABASE"):
        raise ValueError("the URL names no database")
    return env


def describe(env):
    """host:port/dbname for messages: never the user or the password."""
    return f"{env.get('PGHOST', 'local socket')}:{env.get('PGPORT', '5432')}/{env['PGDATABASE']}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variable", help="name of the environment variable holding the URL")
    parser.add_argument("--dbname", help="connect to this database instead of the URL's")
    args = parser.parse_args(argv)
    url = os.environ.get(args.variable)
    if not url:
        print(f"pgenv: {args.variable} is not set", file=sys.stderr)
        return 2
    try:
        env = libpq_environment(url, args.dbname)
    except ValueError as error:
        print(f"pgenv: {args.variable}: {error}", file=sys.stderr)
        return 2
    # Start from a clean slate so nothing from the caller's environment leaks in.
    print("unset " + " ".join(ALL_VARIABLES))
    for name, value in sorted(env.items()):
        print(f"export {name}={shlex.quote(value)}")
    print(f"PG_DESCRIPTION={shlex.quote(describe(env))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
