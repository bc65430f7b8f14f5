#!/usr/bin/env bash
# Builds a release archive fink-<version>-<target>.tar.gz holding
#   bin/fink, lib/fink/plugins/*.so (every bundled plugin), share/ (bash, zsh and fish
#   completions), README.md, LICENSE, SHA256SUMS
# Unpacked anywhere, bin/fink finds its plugins next to it.
# Usage: scripts/dist.sh [--out DIR] [--debug]        (default: target/dist, release profile)
# With FINK_SIGNING_KEY_FILE=<unencrypted minisign secret key> (from your CI's secret store, never
# the repository), every bundled plugin gets a <file>.minisig beside it (crates/sign, `fink-sign`).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

out="$root/target/dist"
build=()
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out="$2"; shift 2 ;;
        --debug) build+=(--debug); shift ;;
        *) echo "usage: $0 [--out DIR] [--debug]" >&2; exit 2 ;;
    esac
done

version="$(sed -n 's/^version = "\(.*\)"/\1/p' host/Cargo.toml | head -n 1)"
triple="$(rustc -vV | sed -n 's/^host: //p')"
name="fink-$version-$triple"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
stage="$work/$name"

bash scripts/install.sh --prefix "$stage" "${build[@]}" >/dev/null
if [ -n "${FINK_SIGNING_KEY_FILE:-}" ]; then
    if [ "${#build[@]}" -gt 0 ]; then profile=dev; dir=debug; else profile=release; dir=release; fi
    cargo build --locked -q -p fink-sign --profile "$profile"
    ext=so
    [ "$(uname)" = Darwin ] && ext=dylib
    "${CARGO_TARGET_DIR:-$root/target}/$dir/fink-sign" "$FINK_SIGNING_KEY_FILE" "$stage"/lib/fink/plugins/*."$ext"
fi
cp README.md LICENSE "$stage/"
# Completion scripts with the bundled tools (fink finds its plugins next to it).
mkdir -p "$stage/share/bash-completion/completions" "$stage/share/zsh/site-functions" \
    "$stage/share/fish/vendor_completions.d"
HOME="$work/home" "$stage/bin/fink" completions bash > "$stage/share/bash-completion/completions/fink"
HOME="$work/home" "$stage/bin/fink" completions zsh > "$stage/share/zsh/site-functions/_fink"
HOME="$work/home" "$stage/bin/fink" completions fish > "$stage/share/fish/vendor_completions.d/fink.fish"
# Only the owner may write (fink refuses group-writable plugin files and folders), whatever the
# umask this ran under; tar keeps these modes.
chmod -R u=rwX,go=rX "$stage"
(cd "$stage" && find bin lib share README.md LICENSE -type f | LC_ALL=C sort | xargs sha256sum > SHA256SUMS)
chmod 0644 "$stage/SHA256SUMS"

mkdir -p "$out"
archive="$out/$name.tar.gz"
# Sorted entries, owner 0 and one fixed time, so the same build gives the same archive.
tar -C "$work" --sort=name --owner=0 --group=0 --numeric-owner --mtime='1980-01-01 00:00:00Z' \
    -czf "$archive" "$name"

echo "$archive: $(du -h "$archive" | cut -f1)"
echo "plugins:"
(cd "$stage/lib/fink/plugins" && du -h -- * | sed 's/^/  /')
