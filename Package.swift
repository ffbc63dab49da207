// swift-tools-version:6.2
// 6.2, not lower: SwiftPM 6.2 lets packages that depend on this one by URL
// and version build targets with unsafe flags (`-Ounchecked`, `-O3`, which
// the kernels and the core are measured with); below 6.2 such a dependent
// fails with "the target 'BitNet' in product 'BitNet' contains unsafe build
// flags". Tests/swiftpm/url_dependency.sh checks it.
// The bitnet package: a Swift core (`BitNet`), a tiny C target for SIMD inner
// loops (`CBitNetKernels`), the C ABI layer (`BitNetC`, built as libbitnet.so)
// and the `bitnet` command-line tool.
import PackageDescription

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The linker needs absolute paths; the manifest knows where it lives.
let packageDirectory = String(#filePath.dropLast("/Package.swift".count))

/// Release builds of libbitnet.so carry the Swift runtime inside them (so a host
/// process needs no toolchain), export only `bitnet_*` symbols and have a SONAME.
/// `-static-stdlib` must be a linker setting: as a Swift setting it is ignored.
let sharedLibraryLinkerSettings: [LinkerSetting] = [
    .unsafeFlags([
        "-Xlinker", "-soname=libbitnet.so.0",
        "-Xlinker", "--version-script=\(packageDirectory)/Sources/BitNetC/exports.map",
    ]),
    .unsafeFlags(["-static-stdlib"], .when(configuration: .release)),
]

let package = Package(
    name: "bitnet",
    // Darwin: Synchronization (Atomic, Mutex) needs macOS 15 / iOS 18.
    platforms: [.macOS(.v15), .iOS(.v18)],
    products: [
        .library(name: "bitnet", type: .dynamic, targets: ["BitNetC"]),
        // The Swift API for Swift packages that depend on this one (server/ and
        // examples/swift do). Linkage left to SwiftPM: a `.dynamic` product named
        // BitNet would be libBitNet.so, which collides with libbitnet.so on
        // case-insensitive file systems.
        .library(name: "BitNet", targets: ["BitNet"]),
        .executable(name: "bitnet-cli", targets: ["BitNetCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(
            name: "CBitNetKernels",
            cSettings: [.unsafeFlags(["-O3"])]
        ),
        .systemLibrary(name: "CBitNetAPI", path: "Sources/CBitNetAPI"),
        .target(
            name: "BitNet",
            dependencies: ["CBitNetKernels"],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        .target(
            name: "BitNetC",
            dependencies: ["BitNet", "CBitNetAPI"],
            exclude: ["exports.map"],
            linkerSettings: sharedLibraryLinkerSettings
        ),
        .executableTarget(
            name: "BitNetCLI",
            dependencies: [
                "BitNet",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "BitNetTests", dependencies: ["BitNet"]),
    ]
)
