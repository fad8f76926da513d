# The a1_to_a2 image: the official Airflow image with the pinned runtime requirements and the DAG
# package baked in (compose mounts dags/, plugins/ and include/ over these copies).
# Target "sandbox" adds the demo requirements and the Box and DAM sandboxes, for compose's
# "sandbox" profile only. The Python version matches the one the requirements were locked with.
FROM apache/airflow:3.3.2-python3.11 AS airflow
COPY requirements.txt /requirements.txt
RUN pip install --no-cache-dir -r /requirements.txt && pip check
COPY --chown=airflow:0 dags/ /opt/airflow/dags/
COPY --chown=airflow:0 plugins/ /opt/airflow/plugins/
COPY --chown=airflow:0 include/ /opt/airflow/include/
# The package installed editable, as an Airflow provider: its connection types appear in
# Admin -> Connections, and every process (`python -m campaigns.migrate` too) imports campaigns
# from /opt/airflow/plugins, the folder compose mounts over.
COPY --chown=airflow:0 pyproject.toml /opt/airflow/pyproject.toml
RUN pip install --no-cache-dir --no-deps -e /opt/airflow

FROM airflow AS sandbox
COPY requirements-demo.txt /requirements-demo.txt
RUN pip install --no-cache-dir -r /requirements-demo.txt
COPY --chown=airflow:0 sandbox/ /opt/airflow/sandbox/
