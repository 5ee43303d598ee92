# syntax=docker/dockerfile:1
# The mxinvite binary in an image of its own: no shell, no package manager,
# run as an unprivileged user (docker-compose.yml uses it).
#
# Pinned: the Go toolchain by its full version (the one go.mod names) and
# Debian release; the runtime stage is scratch, so nothing else is pulled.
# Bump GO_IMAGE when go.mod's toolchain moves.
ARG GO_IMAGE=golang:1.26.8-trixie

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Static (no cgo), time zones embedded (scratch has no /usr/share/zoneinfo).
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false -tags timetzdata -ldflags='-s -w' \
        -o /out/mxinvite ./cmd/mxinvite \
 && mkdir -p /out/data \
 && echo 'nonroot:x:65532:65532:mxinvite:/data:/sbin/nologin' > /out/passwd \
 && echo 'nonroot:x:65532:' > /out/group

FROM scratch
# CA roots for https:// homeservers and identity servers, rediss:// Redis.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/passwd /etc/passwd
COPY --from=build /out/group /etc/group
# /data belongs to the image's user, so a named volume mounted there starts
# writable (rejects files, results exports).
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build /out/mxinvite /usr/local/bin/mxinvite
# Secrets mounted into the container must be readable by this user
# (see docs/operations.md).
USER 65532:65532
WORKDIR /data
ENTRYPOINT ["/usr/local/bin/mxinvite"]
CMD ["--help"]
