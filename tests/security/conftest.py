"""The security suite: secrets kept out of task logs, TLS verified unless turned off."""

from tests.fuzz.worlds import a1_to_a2_dag, make_suite_world, make_world  # noqa: F401 (fixtures)
