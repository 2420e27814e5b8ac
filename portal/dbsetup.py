"""Create the owner, web and worker roles and the database on an external PostgreSQL.

    python -m portal.dbsetup postgresql://postgres@127.0.0.1:5432/postgres

Passwords, when the server needs them, come from PORTAL_OWNER_DB_PASSWORD,
PORTAL_APP_DB_PASSWORD (the web role, DATABASE_URL) and PORTAL_WORKER_DB_PASSWORD (the worker
role, DATABASE_WORKER_URL). Used by CI and docker-compose; the embedded server does the same.
"""

import os
import sys

from portal.embedded import ensure_roles


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    ensure_roles(
        argv[1],
        owner_password=os.environ.get("PORTAL_OWNER_DB_PASSWORD", ""),
        app_password=os.environ.get("PORTAL_APP_DB_PASSWORD", ""),
        worker_password=os.environ.get("PORTAL_WORKER_DB_PASSWORD", ""),
    )
    print("database roles ready")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
