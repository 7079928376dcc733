# syntax=docker/dockerfile:1
# burnwatch container image: a release build of the daemon on distroless/cc (glibc, CA
# certificates, no shell), running as the unprivileged user 65532.
#
#   docker build -t burnwatch:dev .
#   docker run --rm --read-only -p 9464:9464 \
#     -v "$PWD/burnwatch.toml:/etc/burnwatch/burnwatch.toml:ro" \
#     -v burnwatch-data:/var/lib/burnwatch burnwatch:dev
#
# The process writes only to /var/lib/burnwatch (--data-dir); the configuration is mounted
# read-only (a ConfigMap in Kubernetes). No configuration is baked in.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS builder
WORKDIR /src
# The whole workspace: every member's manifest is needed to resolve the lock file.
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
COPY tests ./tests
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p burnwatch \
    && install -D -m 0755 target/release/burnwatch /out/burnwatch \
    && install -d -m 0750 /out/data

# distroless/cc-debian12 matches the builder's glibc (bookworm) and ships ca-certificates,
# which the TLS client's platform verifier reads from /etc/ssl/certs.
FROM gcr.io/distroless/cc-debian12:nonroot

ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="burnwatch" \
      org.opencontainers.image.description="SLO monitoring daemon: rolling multi-window burn rates from Prometheus, Sloth-compatible metrics" \
      org.opencontainers.image.source="https://github.com/burnwatch/burnwatch" \
      org.opencontainers.image.url="https://github.com/burnwatch/burnwatch" \
      org.opencontainers.image.documentation="https://github.com/burnwatch/burnwatch/blob/main/docs/kubernetes.md" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="burnwatch" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="gcr.io/distroless/cc-debian12:nonroot"

COPY --from=builder /out/burnwatch /usr/local/bin/burnwatch
# The data dir exists and belongs to the runtime user, so `docker run` without a volume works;
# with a read-only root filesystem mount a volume (emptyDir or PVC) here.
COPY --from=builder --chown=65532:65532 /out/data /var/lib/burnwatch

USER 65532:65532
EXPOSE 9464
VOLUME ["/var/lib/burnwatch"]
ENTRYPOINT ["burnwatch"]
CMD ["run", "--config", "/etc/burnwatch/burnwatch.toml", "--data-dir", "/var/lib/burnwatch"]
