#!/bin/sh
# The `BitNet` product as a package that depends on bitnet by URL sees it: a
# git repository at a file:// URL with a version tag, resolved with `from:`.
# SwiftPM refuses targets with unsafe flags in such (versioned, remote)
# dependencies unless the dependency's manifest allows them, so this is the
# test that keeps Package.swift usable from other packages.
#
# The repository is a snapshot of the working tree (tracked and new,
# non-ignored files), so uncommitted changes are tested too.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SWIFT=${SWIFT:-swift}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

mkdir "$WORK/bitnet"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) |
  tar -xf - -C "$WORK/bitnet"
(
  cd "$WORK/bitnet"
  git init -q
  git add -A
  git -c user.name=test -c user.email=test@localhost commit -qm snapshot
  git tag 0.1.0
)

mkdir -p "$WORK/consumer/Sources/Consumer"
cat > "$WORK/consumer/Package.swift" <<MANIFEST
// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "consumer",
    platforms: [.macOS(.v15), .iOS(.v18)],
    dependencies: [.package(url: "file://$WORK/bitnet", from: "0.1.0")],
    targets: [
        .executableTarget(name: "Consumer", dependencies: [.product(name: "BitNet", package: "bitnet")]),
    ]
)
MANIFEST
cat > "$WORK/consumer/Sources/Consumer/main.swift" <<'SOURCE'
import BitNet

// Greedy text from the shipped model through the public API only.
let model = try await Model.load(from: CommandLine.arguments[1])
let context = try Context(model: model)
let result = try await context.generate(.text("In the beginning"),
                                        params: GenerationParams(sampling: .fast, maxNewTokens: 8))
precondition(result.stats.generated == 8 && !result.text.isEmpty, "no text generated")
print("ok   URL dependency: generated \(result.stats.generated) tokens: \(result.text.debugDescription)")
SOURCE

cd "$WORK/consumer"
"$SWIFT" build --scratch-path .build >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; echo "FAIL URL dependency: the consumer does not build"; exit 1; }
./.build/debug/Consumer "$ROOT/models/bitnet-kjv-tiny.gguf"
