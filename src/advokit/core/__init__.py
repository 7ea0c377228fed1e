"""The small core: values, hooks facade, plugin manager, pipeline and store."""
