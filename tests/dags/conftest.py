"""The DAG-run world's fixtures (``world.py``; test modules import its helpers from there)."""

from tests.dags.world import a1_to_a2_dag, make_world, uid  # noqa: F401 (fixtures)
