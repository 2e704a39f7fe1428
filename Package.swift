// swift-tools-version:6.0
// NeuralCodecs: learned data codecs for images, audio and text. See docs/ARCHITECTURE.md.
import PackageDescription

/// The build targets portable x86-64 (no -target-cpu): the deterministic kernels give the same
/// bits with or without `-Xswiftc -target-cpu -Xswiftc haswell`, which only widens vectors
/// (docs/NEURAL.md).
let package = Package(
    name: "NeuralCodecs",
    products: [
        .executable(name: "codec", targets: ["codec"]),
        .library(name: "CodecKit", targets: ["CodecKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C system libraries and the one C shim (libpng's setjmp error handling).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CSndFile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "COpenBLAS", providers: [.apt(["libopenblas-dev"])]),
        .target(name: "CPNG", linkerSettings: [.linkedLibrary("png16")]),

        // Layers, bottom to top (docs/ARCHITECTURE.md).
        .target(name: "MediaIO", dependencies: ["CPNG", "CSndFile"]),
        .target(name: "Container", dependencies: ["CZlib"]),
        .target(name: "EntropyCoding"),
        .target(name: "Neural", dependencies: ["COpenBLAS"]),
        .target(name: "Circuits"),
        .target(name: "Wavelets"),
        .target(name: "CodecKit", dependencies: ["MediaIO", "Container"]),

        // Codecs: one target each, registered in Sources/codec/Registry.swift.
        .target(name: "Store", dependencies: ["CodecKit", "EntropyCoding", "CZlib"]),
        .target(name: "TextLM", dependencies: ["CodecKit", "Neural", "EntropyCoding"]),
        .target(name: "PCCodec", dependencies: ["CodecKit", "Circuits", "EntropyCoding"]),
        .target(name: "WaLLoC", dependencies: ["CodecKit", "Container", "MediaIO", "Neural", "EntropyCoding", "Wavelets", "CZlib"]),

        .executableTarget(
            name: "codec",
            dependencies: [
                "CodecKit", "Store", "TextLM", "PCCodec", "WaLLoC", "MediaIO", "Container",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .executableTarget(name: "TextBench", dependencies: ["TextLM", "CodecKit", "MediaIO", "Container"], path: "Benchmarks/TextBench"),

        .executableTarget(name: "NeuralBench", dependencies: ["Neural"], path: "Benchmarks/NeuralBench"),

        .executableTarget(name: "pc-tool", dependencies: ["Circuits", "EntropyCoding", "PCCodec", "CodecKit", "Container", "CZlib"]),

        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "MediaIOTests", dependencies: ["MediaIO", "TestSupport"]),
        .testTarget(name: "ContainerTests", dependencies: ["Container"]),
        .testTarget(name: "EntropyCodingTests", dependencies: ["EntropyCoding", "TestSupport"]),
        .testTarget(name: "NeuralTests", dependencies: ["Neural"], exclude: ["Golden"]),
        .testTarget(name: "CircuitsTests", dependencies: ["Circuits", "TestSupport"]),
        .testTarget(name: "CodecKitTests", dependencies: ["CodecKit", "Store", "PCCodec", "Circuits", "Container", "MediaIO", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["MediaIO", "Container", "TestSupport"]),
        .testTarget(name: "WaveletsTests", dependencies: ["Wavelets"]),
        .testTarget(name: "WaLLoCTests", dependencies: ["WaLLoC", "Wavelets", "Neural", "CodecKit", "Container", "MediaIO", "TestSupport"]),
        .testTarget(name: "TextLMTests", dependencies: ["TextLM", "Neural", "EntropyCoding", "CodecKit", "Container", "MediaIO", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
