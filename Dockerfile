# Multi-stage build: a static msgmock binary on an empty image, run as a
# non-root user, serving the built-in fixtures on 0.0.0.0:8080.
#
#   docker build -t msgmock .
#   docker run --rm -p 8080:8080 msgmock
#   docker run --rm -p 8080:8080 -v "$PWD/fixtures:/work/fixtures:ro" msgmock
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
# `msgmock health` asks /__mock/health on loopback (MSGMOCK_ADDR's port);
# with --admin-token, pass MSGMOCK_ADMIN_TOKEN instead so it can ask too.
HEALTHCHECK --interval=10s --timeout=3s --start-period=2s --retries=3 CMD ["/msgmock", "health"]
ENTRYPOINT ["/msgmock"]
