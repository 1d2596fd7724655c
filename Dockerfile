# kconnect runtime image: a static binary on distroless, running as non-root.
#   docker build -t kconnect .
#   docker run -v $PWD/worker.properties:/etc/kconnect/worker.properties:ro -p 8083:8083 kconnect
FROM golang:1.26-bookworm AS build
WORKDIR /src
# Dependencies first, so that source edits reuse the module download layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/kconnect ./cmd/kconnect \
	&& mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/kconnect /usr/local/bin/kconnect
# Writable state (e.g. offset.storage.file.filename) for the non-root user.
COPY --from=build --chown=65532:65532 /out/data /var/lib/kconnect
USER 65532:65532
EXPOSE 8083
ENTRYPOINT ["/usr/local/bin/kconnect"]
CMD ["standalone", "/etc/kconnect/worker.properties"]
