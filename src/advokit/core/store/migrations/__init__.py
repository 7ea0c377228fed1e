"""advokit's alembic environment; see :mod:`advokit.core.store.migrate`."""
