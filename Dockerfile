FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PORTAL_DATA_DIR=/data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY portal ./portal
COPY partnerships ./partnerships
COPY compliance ./compliance
RUN pip install --no-cache-dir .
COPY . .
RUN pybabel compile --domain django --directory locale || true
RUN useradd --system --uid 1000 portal && mkdir -p /data && chown portal /data
USER portal
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4"]
