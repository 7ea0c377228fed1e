"""The store: let alembic write a plugin's first revision from its sqlmodel tables.

Run in its own interpreter: importing the plugin's tables adds them to SQLModel.metadata.
"""

if __name__ == "__main__":
    import shutil
    import sys
    from pathlib import Path

    # the advokit-shoutouts package of "Writing plugins", without its migration yet
    package = Path(__file__).resolve().parent / "advokit-shoutouts"
    shutil.copytree(package / "src", "src", ignore=shutil.ignore_patterns("__pycache__"))
    for revision in Path("src/advokit_shoutouts/migrations").glob("*.py"):
        revision.unlink()
    sys.path.insert(0, "src")

    # --8<-- [start:revision]
    import advokit_shoutouts.tables  # noqa: F401  (declares the plugin's tables)
    from alembic import command

    from advokit.core.store import migrate
    from advokit.core.store.database import connect

    engine = connect("sqlite:///scratch.db")
    versions = "src/advokit_shoutouts/migrations"
    migrate.upgrade(engine, [versions])  # the database at every current head
    config = migrate.alembic_config(engine, [versions])
    config.attributes["table_prefix"] = "shoutouts_"
    command.revision(
        config,
        message="create shoutouts",
        autogenerate=True,
        rev_id="shoutouts_0001",
        head="base",  # for the first revision; later: head="shoutouts@head"
        branch_label="shoutouts",  # for the first revision only
        depends_on="advokit",  # for the first revision only
        version_path=versions,
    )
    # --8<-- [end:revision]

    [written] = Path(versions).glob("shoutouts_0001_*.py")
    source = written.read_text()
    assert "op.create_table('shoutouts_published'" in source, source
    assert "branch_labels: str | Sequence[str] | None = ('shoutouts',)" in source
    assert "depends_on: str | Sequence[str] | None = 'advokit'" in source
    migrate.upgrade(engine, [versions])  # the new revision applies
    assert "shoutouts_0001" in migrate.current_heads(engine)
