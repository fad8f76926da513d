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
# Airflow puts the plugins folder on sys.path itself; `python -m campaigns.migrate` needs this.
ENV PYTHONPATH=/opt/airflow/plugins

FROM airflow AS sandbox
COPY requirements-demo.txt /requirements-demo.txt
RUN pip install --no-cache-dir -r /requirements-demo.txt
COPY --chown=airflow:0 sandbox/ /opt/airflow/sandbox/
