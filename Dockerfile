# One image for every Đoàn process: the subcommand picks the service
# (`doan membership`, `doan gateway`, `doan migrate`, ...). Build: docker build -t doan .
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p doan \
 && install -Dm755 target/release/doan /out/doan

# glibc, CA certificates and a non-root user (65532), nothing else: no shell, no package manager.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/doan /usr/local/bin/doan
USER 65532:65532
EXPOSE 8080 50051 50052 50053 50054
HEALTHCHECK --interval=10s --timeout=3s CMD ["/usr/local/bin/doan", "health-check", "--addr", "http://127.0.0.1:8080"]
ENTRYPOINT ["/usr/local/bin/doan"]
CMD ["gateway"]
