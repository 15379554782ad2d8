"""SQLAlchemy: a session that never began a transaction or held an object is not rebuilt at close."""

from flask_sqlalchemy.session import Session as FlaskSession


class LeanCloseSession(FlaskSession):
    """Flask-SQLAlchemy's session; closing one with nothing to close does nothing.

    A round on the driver alone never uses the request's session, whose close had rebuilt its
    empty identity map and transaction state at the end of every request (2 % of `/spin`).
    """

    def close(self):
        """Close, unless the session never began a transaction or held an object."""
        if self.in_transaction() or self.identity_map or self.new or self.deleted:
            super().close()
