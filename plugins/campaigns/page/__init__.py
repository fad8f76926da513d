"""The campaigns page: an app in Airflow's API server and a "Campaigns" entry in the UI's menu."""
