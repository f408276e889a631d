# syntax=docker/dockerfile:1
# The operator image: one static-ish binary, the default plugins (precompiled wasm components) and the data they
# read (gotemplates/, manifests/), on a distroless base, running as an unprivileged user.
#
#   docker build -t platform-mesh-operator .
#   docker run --rm platform-mesh-operator run --help
#
# Layout (the chart's defaults point here): /operator/manager, /operator/plugins/*.wasm, /operator/gotemplates,
# /operator/manifests. The plugin compile cache goes to a writable volume (--plugin-cache-dir), so the root file
# system can stay read-only.

# ---- build: the toolchain of rust-toolchain.toml plus the wasm32-wasip2 target; the operator's build script
# compiles every plugin under plugins/ into target/wasm/plugins.
FROM rust:1.95.0-bookworm AS build
WORKDIR /src
RUN rustup target add wasm32-wasip2
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p platform-mesh-operator \
 && mkdir -p /out/plugins \
 && cp target/release/platform-mesh-operator /out/manager \
 && cp target/wasm/plugins/*.wasm /out/plugins/

# ---- runtime: glibc and CA certificates only, no shell, uid/gid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
WORKDIR /operator
COPY --from=build /out/manager /operator/manager
COPY --from=build /out/plugins/ /operator/plugins/
COPY gotemplates/ /operator/gotemplates/
COPY manifests/ /operator/manifests/
USER 65532:65532
EXPOSE 9090 8090
ENTRYPOINT ["/operator/manager"]
CMD ["run", "--workspace-dir=/operator/", "--plugins-dir=/operator/plugins"]
