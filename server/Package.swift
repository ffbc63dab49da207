// swift-tools-version:6.0
// `bitnet-server`: the OpenAI-compatible HTTP server behind `bitnet serve`.
// A package of its own so that neither libbitnet.so nor Swift users of the
// core library resolve the HTTP stack (Hummingbird on SwiftNIO).
import PackageDescription

let package = Package(
    name: "bitnet-server",
    products: [
        .executable(name: "bitnet-server", targets: ["BitNetServer"]),
    ],
    dependencies: [
        .package(name: "bitnet", path: ".."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.0.0"),
    ],
    targets: [
        .executableTarget(
            name: "BitNetServer",
            dependencies: [
                .product(name: "BitNet", package: "bitnet"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
