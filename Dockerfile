# One image for every PaySystem process; the compose file picks the command.
FROM python:3.11-slim
WORKDIR /app
# Java 17 and the MariaDB JDBC driver for the Spark batch engine (PAYSYSTEM_BATCH_ENGINE=spark)
# and the Spark master and workers of docker-compose.yml; nothing is downloaded at run time.
RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless libmariadb-java \
 && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY protos protos
COPY paysystem paysystem
COPY domain domain
COPY services services
COPY batch batch
COPY entrypoints entrypoints
COPY migrations migrations
COPY envoy envoy
RUN pip install --no-cache-dir -e '.[spark]' \
 && python -c "from pathlib import Path; from services.common.protogen import build_descriptor_set; build_descriptor_set(Path('/app/descriptor/paysystem.pb'))"
ENV PAYSYSTEM_SERVICE_HOST=0.0.0.0 \
    PAYSYSTEM_DATA_DIR=/var/lib/paysystem \
    PAYSYSTEM_LOG_FORMAT=json
