"""Airflow as it runs in production, started from this tree for the end-to-end tests and bench."""
