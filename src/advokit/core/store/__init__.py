"""Storage: tables, migrations, connections and the batched queries."""
