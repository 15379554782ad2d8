"""The migrations are the schema: upgrading an empty database yields exactly the models."""

import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect
from sqlalchemy.exc import IntegrityError

from imperioApp.extensions import db
from imperioApp.models import User
from imperioApp.models.user import in_models


def schema_drift(connection):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLite cannot reflect expression indexes; said once in pytest.ini
        opts = {"compare_type": True, "compare_server_default": True, "include_object": in_models}
        context = MigrationContext.configure(connection, opts=opts)
        return compare_metadata(context, db.metadata)


def test_migrated_database_matches_the_models(db):
    """The session database was built by `flask db upgrade` alone (see conftest)."""
    with db.engine.connect() as connection:
        assert schema_drift(connection) == []


def test_the_database_itself_refuses_usernames_differing_only_in_case(db):
    db.session.add(User(username="Casey", email="c1@example.com", password_hash="x"))
    db.session.commit()
    db.session.add(User(username="cASEY", email="c2@example.com", password_hash="x"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_downgrade_to_nothing_and_back_up(make_app, tmp_path):
    url = f"sqlite:///{tmp_path}/scratch.db"
    scratch = make_app(SQLALCHEMY_DATABASE_URI=url)
    with scratch.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(inspect(create_engine(url)).get_table_names()) == {"alembic_version"}
        upgrade()
        with db.engine.connect() as connection:
            assert schema_drift(connection) == []
