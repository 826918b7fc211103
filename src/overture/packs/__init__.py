"""Built-in packs: each a folder of sequences plus a ``register(registry)`` function."""
