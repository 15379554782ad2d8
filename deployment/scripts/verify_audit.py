"""Check the audit trail's hash chain of the database DATABASE_URL names (restore.sh runs it).

    DATABASE_URL=postgresql://... python deployment/scripts/verify_audit.py    # exit 1 on a break

The chain and its walk are the app's (`imperioApp.services.operators.audit.verify`).
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
from imperioApp import create_app  # noqa: E402
from imperioApp.services.operators import audit  # noqa: E402


def main():
    app = create_app("development", SQLALCHEMY_DATABASE_URI=os.environ["DATABASE_URL"], REDIS_URL=None)
    with app.app_context():
        result = audit.verify()
    for problem in result["problems"]:
        print(f"AUDIT BROKEN at #{problem['id']}: {problem['problem']}")
    print(f"audit rows={result['rows']} breaks={len(result['problems'])} head={result['head']['row_hash']}")
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
