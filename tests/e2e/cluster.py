"""The end-to-end tests' Airflow cluster: the shared harness in `stack.cluster`."""

from stack.cluster import AirflowCluster, ClusterError, airflow_cluster

__all__ = ["AirflowCluster", "ClusterError", "airflow_cluster"]
