# hfhooks as a Docker Space (or any container platform).
# Build: docker build -t hfhooks .    Run: docker run -p 7860:7860 -e WEBHOOK_SECRET=... hfhooks

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# A static binary: no cgo (the SQLite driver is pure Go), so it runs on any base image.
# --build-arg VERSION=v0.1.0 sets what "hfhooks version" prints.
ARG VERSION=
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/hfhooks ./cmd/hfhooks \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12
# Spaces run containers as user 1000; the working directory holds the queue database.
COPY --from=build --chown=1000:1000 /out/data /data
COPY --from=build /out/hfhooks /usr/local/bin/hfhooks
WORKDIR /data
USER 1000:1000
EXPOSE 7860
# On a Space (SPACE_ID set) hfhooks listens on 0.0.0.0:7860 and prints https://$SPACE_HOST URLs.
ENTRYPOINT ["/usr/local/bin/hfhooks"]
CMD ["serve", "--addr", "0.0.0.0:7860"]
