"""Built-in output plugins, installed as ``edge_arasl_plugins`` and registered like any other."""
