// swift-tools-version:6.0
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
    products: [
        .library(name: "bitnet", type: .dynamic, targets: ["BitNetC"]),
        // The Swift core for Swift packages that depend on this one (server/ does).
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
