"""advokit's built-in plugins.

Each module is an ordinary plugin that uses only the public hooks and effects,
exactly as a third-party plugin would. :data:`advokit.core.plugins.DEFAULT_PLUGINS`
lists the ones every program gets unless replaced or disabled.
"""
