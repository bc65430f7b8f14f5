#!/usr/bin/env bash
# Builds fink and its bundled plugins and installs them as
#   <prefix>/bin/fink
#   <prefix>/lib/fink/plugins/*.so   (the bundled plugin folder fink searches last)
#   <prefix>/bin/<tool> -> fink      for each bundled tool and its old names (cloud, kumo, ...),
#                                    so `cloud deploy -e dev` works as the fink guide writes it
# Usage: scripts/install.sh [--prefix DIR] [--debug] [--no-links]     (default prefix: ~/.local)
set -euo pipefail
cd "$(dirname "$0")/.."

prefix="$HOME/.local"
profile=release
links=yes
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="$2"; shift 2 ;;
        --debug) profile=debug; shift ;;
        --no-links) links=no; shift ;;
        *) echo "usage: $0 [--prefix DIR] [--debug] [--no-links]" >&2; exit 2 ;;
    esac
done

# Every crate under plugins/ is a bundled plugin, except the examples, whose Cargo.toml says
# `bundled = false` under [package.metadata.fink] (say-hello): they are built by `cargo build`
# and installed by hand, never by default.
packages=(-p fink)
libs=()
examples=()
for manifest in plugins/*/Cargo.toml; do
    package="$(sed -n 's/^name = "\(.*\)"/\1/p' "$manifest" | head -n 1)"
    if grep -Eq '^bundled *= *false' "$manifest"; then
        examples+=("lib${package//-/_}")
        continue
    fi
    packages+=(-p "$package")
    libs+=("lib${package//-/_}")
done

flags=()
[ "$profile" = release ] && flags+=(--release)
cargo build --locked "${flags[@]}" "${packages[@]}"

target="${CARGO_TARGET_DIR:-target}/$profile"
case "$(uname -s)" in Darwin) ext=dylib ;; *) ext=so ;; esac
# fink refuses a plugins folder or file that group or others may write: the modes are set here,
# whatever the umask (often 002).
mkdir -p "$prefix/bin" "$prefix/lib/fink/plugins"
chmod 0755 "$prefix/lib/fink/plugins"
install -m 0755 "$target/fink" "$prefix/bin/fink"
# Only the bundled plugins' files (the target folder holds examples and test fixtures too). An
# example an earlier install.sh put into this folder goes, so upgrading makes the install quiet.
for lib in ${examples[@]+"${examples[@]}"}; do
    if [ -e "$prefix/lib/fink/plugins/$lib.$ext" ]; then
        rm -f "$prefix/lib/fink/plugins/$lib.$ext" "$prefix/lib/fink/plugins/$lib.$ext.minisig"
        echo "removed the example $lib.$ext from $prefix/lib/fink/plugins (no longer bundled)"
    fi
done
for lib in "${libs[@]}"; do
    install -m 0644 "$target/$lib.$ext" "$prefix/lib/fink/plugins/"
done
echo "installed $prefix/bin/fink with plugins in $prefix/lib/fink/plugins:"
ls "$prefix/lib/fink/plugins"

# Links named after the tools: `fink version` lists each tool as `  cloud (plugin cloud 0.1.0; also kumo)`.
if [ "$links" = yes ]; then
    names=$("$prefix/bin/fink" version | sed -n 's/^  \([a-z0-9-]*\) (plugin [^;)]*\(; also \(.*\)\)\{0,1\})$/\1 \3/p' | tr ', ' '  ')
    made=()
    for name in $names; do
        link="$prefix/bin/$name"
        # Never replace a program of that name; an earlier link of ours is refreshed.
        if [ -e "$link" ] && [ ! -L "$link" ]; then
            echo "not linking $link: a file of that name exists" >&2
            continue
        fi
        ln -sfn fink "$link"
        made+=("$name")
    done
    echo "linked ${made[*]} to $prefix/bin/fink (skip with --no-links)"
    for name in "${made[@]}"; do
        found=$(command -v "$name" 2>/dev/null || true)
        if [ -n "$found" ] && [ "$found" != "$prefix/bin/$name" ]; then
            echo "note: $name on your PATH is $found, not the link" >&2
        fi
    done
fi
