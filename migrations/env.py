import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from imperioApp.models.user import in_models

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
# Keep the application's logging when it already configured some (tests, `flask db`).
if not logging.getLogger().handlers:
    fileConfig(config.config_file_name)
logger = logging.getLogger("alembic.env")


def get_engine():
    return current_app.extensions["migrate"].db.engine


def get_engine_url():
    try:
        return get_engine().url.render_as_string(hide_password=False).replace("%", "%%")
    except AttributeError:
        return str(get_engine().url).replace("%", "%%")


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option("sqlalchemy.url", get_engine_url())
target_db = current_app.extensions["migrate"].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def get_metadata():
    if hasattr(target_db, "metadatas"):
        return target_db.metadatas[None]
    return target_db.metadata


def revisions_unknown_here(connection):
    """The database's revisions that this release's migrations do not include.

    After a rollback the database stays at the later release's revision (its migrations only
    add: see the migration policy in docs/operations.md), and this release must start on it.
    """
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    heads = MigrationContext.configure(connection).get_current_heads()
    # End the transaction the read began, or the migrations would run inside it, uncommitted.
    connection.rollback()
    return [head for head in heads if head not in known]


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=get_metadata(), literal_binds=True)

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = current_app.extensions["migrate"].configure_args
    conf_args.setdefault("include_object", in_models)  # PostgreSQL-only indexes stay out of autogenerate
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives

    connectable = get_engine()

    with connectable.connect() as connection:
        unknown = revisions_unknown_here(connection)
        if unknown:
            logger.warning(
                "The database is at revision %s, which this release does not know: a later "
                "release migrated it and was rolled back. Its migrations only add, so this "
                "release runs on that schema; nothing to migrate.",
                ", ".join(unknown),
            )
            return
        context.configure(connection=connection, target_metadata=get_metadata(), **conf_args)

        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a table by dropping it: with foreign keys on, dropping users
            # would fail (or cascade) for every row that refers to it. The pragma only takes
            # effect outside a transaction (so on the driver's connection: SQLAlchemy would begin
            # one first); the keys are checked once the migrations are done.
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            driver = connection.connection.dbapi_connection
            broken = driver.execute("PRAGMA foreign_key_check").fetchall()
            driver.execute("PRAGMA foreign_keys=ON")
            if broken:
                raise RuntimeError(f"the migrations left rows whose foreign keys point nowhere: {broken[:10]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
