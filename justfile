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

# Benchmarks (numbers go to docs/PERFORMANCE.md): the domain's criterion benches, their
# medians, then the HTTP load test (SQLite; PostgreSQL too when TEST_DATABASE_URL is set).
bench:
    cargo bench -p pas-domain
    python3 bench/criterion_medians.py
    bash bench/load.sh

# Formatting and lints exactly as CI runs them.
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# Schemathesis against the release binary on a scratch SQLite file (part of CI).
schemathesis:
    bash .ci/schemathesis

# What CI runs.
ci:
    bash .ci/run
