"""The demo: the a1_to_a2 DAG on embedded services, started by ``bin/demo``."""
