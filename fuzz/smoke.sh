#!/usr/bin/env bash
# Fuzz smoke run for CI: builds the template and YAML targets with cargo fuzz and runs each from the seed corpus for
# a bounded time (PMO_FUZZ_SECONDS, default 25 s per target). New inputs go to a temporary directory, so the
# repository's corpus only changes when someone adds to it on purpose. Longer runs: README.md beside this file.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${PMO_FUZZ_SECONDS:-25}"
version=0.13.2
if ! cargo fuzz --version 2>/dev/null | grep -qF "$version"; then
    echo "== installing cargo-fuzz $version"
    cargo install cargo-fuzz --locked --version "$version"
fi

# cargo fuzz passes unstable -Z flags to rustc; the pinned stable toolchain accepts them with RUSTC_BOOTSTRAP.
# No sanitizer: AddressSanitizer needs a nightly standard library, and safe Rust does not need it to find panics,
# stack overflows, aborts, timeouts and out-of-memory inputs, which libFuzzer reports on its own.
export RUSTC_BOOTSTRAP=1
for target in template yaml; do
    scratch="$(mktemp -d)"
    echo "== fuzz $target for ${seconds}s"
    cargo fuzz run --sanitizer none "$target" "$scratch" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1
    rm -rf "$scratch"
done
