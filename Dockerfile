# Autograd Lab, one replica: one Streamlit process (one core: a process runs every
# session's script under one GIL). README, "Performance": what one replica holds and how
# to scale out; deploy/ has a replica + session-affinity example.
#
# NOT RUN HERE: the machine this was written on has no docker engine. The steps are the
# ones the lab's own server runs with (Python 3.11, requirements.txt, packages.txt).
#   docker build -t autograd-lab .
#   docker run --rm -p 8501:8501 autograd-lab        # then open http://localhost:8501
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Debian's graphviz (the `dot` binary) for the SVG/PNG graph downloads.
COPY packages.txt /tmp/packages.txt
RUN apt-get update \
    && xargs -a /tmp/packages.txt apt-get install -y --no-install-recommends \
    && rm -rf /var/lib/apt/lists/* /tmp/packages.txt

WORKDIR /app
# requirements.txt pins everything and points pip at PyTorch's CPU index (no CUDA build).
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY .streamlit ./.streamlit
COPY streamlit_app.py ./
COPY lab ./lab
COPY pages ./pages

RUN useradd --create-home --uid 10001 lab
USER lab
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"
CMD ["python", "-m", "streamlit", "run", "streamlit_app.py", \
     "--server.port=8501", "--server.address=0.0.0.0", "--server.headless=true"]
