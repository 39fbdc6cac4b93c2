"""The client contract (schema snapshot, operations, trusted documents), installed as `ordergraph.contract` so that
code reads it through importlib.resources."""
