"""What `advokit new` does, from Python: write a program project and a plugin package."""

from pathlib import Path

# --8<-- [start:api]
from advokit.scaffold import new_plugin, new_program

program = new_program("acme-rewards", directory=".")  # ./acme-rewards/
plugin = new_plugin("shoutouts", directory=".")  # ./advokit-shoutouts/

for made in (program, plugin):
    print(f"{made.kind} {made.names.name}: {made.target}")
    for path in made.files:
        print(f"  {path.as_posix()}")
print(plugin.names.distribution, plugin.names.module)  # advokit-shoutouts advokit_shoutouts
# --8<-- [end:api]

assert program.target == Path("acme-rewards")
assert (program.target / "program.py").is_file()
assert plugin.target == Path("advokit-shoutouts")
assert Path("src/advokit_shoutouts/__init__.py") in plugin.files
assert (plugin.names.distribution, plugin.names.module) == (
    "advokit-shoutouts",
    "advokit_shoutouts",
)
