# Multi-stage build: a static msgmock binary on an empty image, run as a
# non-root user, serving the built-in fixtures on 0.0.0.0:8080 — every
# interface of the container, so msgmock generates an admin token for
# /__mock/* and prints it once with its start line (docker logs shows it).
# Publish on the host's loopback, so that the local network cannot reach it:
#
#   docker build -t msgmock .
#   docker run --rm -p 127.0.0.1:8080:8080 msgmock
#   docker run --rm -p 127.0.0.1:8080:8080 -v "$PWD/fixtures:/work/fixtures:ro" msgmock
#   docker run --rm -p 127.0.0.1:8080:8080 msgmock --admin-token ''   # no token, knowingly
#
# Reached under a compose service name (http://msgmock:8080), allow it:
# MSGMOCK_ALLOWED_HOST=msgmock (README: Security).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=docker
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/msgmock ./cmd/msgmock \
 && mkdir -p /out/work

FROM scratch
COPY --from=build /out/msgmock /msgmock
# An empty working directory: with no ./fixtures in it the built-in set is
# served; mount a directory at /work/fixtures to serve your own.
COPY --from=build --chown=65532:65532 /out/work /work
WORKDIR /work
USER 65532:65532
ENV MSGMOCK_ADDR=0.0.0.0:8080
EXPOSE 8080
# `msgmock health` asks /__mock/health on loopback (127.0.0.1 and
# MSGMOCK_ADDR's port), which answers without the admin token there, so
# the check works with a generated token, a given one or none.
HEALTHCHECK --interval=10s --timeout=3s --start-period=2s --retries=3 CMD ["/msgmock", "health"]
ENTRYPOINT ["/msgmock"]
