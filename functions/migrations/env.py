"""Alembic environment: runs migrations online against the configured URL."""

from alembic import context

from functions.db import create_db_engine

config = context.config

# The project's engine factory: psycopg2 for Postgres, and the SQLite file's directory created.
engine = create_db_engine(config.get_main_option("sqlalchemy.url"), pool_size=1)
with engine.connect() as connection:
    context.configure(connection=connection, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
