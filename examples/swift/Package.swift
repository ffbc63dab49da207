// swift-tools-version:6.0
// A Swift program that uses bitnet as a Swift package would: by path here
// (a released version would name the repository URL and a version instead).
// `make test-swift-package` builds and runs it, so the `BitNet` product
// cannot break without a test failing.
import PackageDescription

let package = Package(
    name: "bitnet-swift-example",
    platforms: [.macOS(.v15), .iOS(.v18)],
    dependencies: [
        .package(name: "bitnet", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "StreamText",
            dependencies: [.product(name: "BitNet", package: "bitnet")]
        ),
    ]
)
