# Shortcuts; the README's plain cargo commands do the same.

pg_url := env_var_or_default("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")

# Start the service on the embedded SQLite default.
run:
    cargo run

# The whole suite; the PostgreSQL half is skipped (and says so) without TEST_DATABASE_URL.
test:
    cargo test --workspace

# The whole suite with the PostgreSQL half against the local server.
test-pg:
    TEST_DATABASE_URL={{pg_url}} cargo test --workspace

# Benchmarks (numbers go to docs/PERFORMANCE.md).
bench:
    cargo bench --workspace

# Formatting and lints exactly as CI runs them.
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# What CI runs.
ci:
    bash .ci/run
