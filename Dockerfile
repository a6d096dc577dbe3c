# loyalty-gateway's server in a container: `pip install .` on python:3.11-slim, run as a non-root user on
# 0.0.0.0:8080, which needs the admin token: give it at run time, never in the image:
#   docker build -t loyalty-gateway . && docker run -p 8080:8080 -e LOYALTY_GATEWAY_ADMIN_TOKEN=... loyalty-gateway
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

# gateway/contracts/pinned links to fixtures/ (the pinned contract cases ship in the package), so both are copied.
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY gateway ./gateway
COPY fixtures ./fixtures
RUN pip install . && rm -rf /src

RUN useradd --create-home --uid 10001 gateway && mkdir /data && chown gateway /data
USER gateway
WORKDIR /data
VOLUME /data

EXPOSE 8080
# slim has no curl: python's urllib asks /__admin/health, which never needs the admin token
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/__admin/health', timeout=2)"]
CMD ["loyalty-gateway", "serve", "--host", "0.0.0.0", "--port", "8080", "--database", "sqlite:////data/loyalty-gateway.db"]
