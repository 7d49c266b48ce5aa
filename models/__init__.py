"""The shipped model, its metadata and held-out samples.

Installed as the package ``edge_arasl_models`` so an installed copy of edge-arasl finds its
model through ``importlib.resources`` without a path of the source checkout.
"""
