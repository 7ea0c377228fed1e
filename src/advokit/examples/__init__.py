"""Example programs shipped with advokit; ``advokit demo`` runs :mod:`.bakery`."""
