"""A program that uses the installed advokit-shoutouts (found through its entry point)."""

from advokit import Program

program = Program(name="bakery", database_url="sqlite:///bakery.db")
