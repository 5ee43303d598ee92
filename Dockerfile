# Builds the mxinvite binary into a small image (used by docker-compose.yml).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/mxinvite ./cmd/mxinvite

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/mxinvite /usr/local/bin/mxinvite
ENTRYPOINT ["/usr/local/bin/mxinvite"]
