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
        // C system libraries and the C shims (libpng's setjmp error handling, OpenBLAS's extras).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CSndFile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "CSampleRate", pkgConfig: "samplerate", providers: [.apt(["libsamplerate0-dev"])]),
        // OpenBLAS with the declarations cblas.h lacks, and its idle thread pool stopped at load.
        .target(name: "COpenBLAS", linkerSettings: [.linkedLibrary("openblas")]),
        .target(name: "CPNG", linkerSettings: [.linkedLibrary("png16")]),
        // AVX2 / AVX-512 versions of Neural's deterministic kernels, chosen at run time (the
        // package itself stays portable x86-64; docs/NEURAL.md).
        .target(name: "CKernels"),
        // Tesseract and pocketsphinx, loaded with dlopen at first use, not linked: linking them
        // cost every `codec` process ~27 ms of CPU at start (docs/SCORE.md). Their headers are
        // still needed to build (libtesseract-dev, libpocketsphinx-dev: mk/score.mk installs them).
        .target(name: "CTesseract", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "CPocketSphinx", linkerSettings: [.linkedLibrary("dl")]),

        // Layers, bottom to top (docs/ARCHITECTURE.md).
        // Each target lists every target it imports (docs/ARCHITECTURE.md, "Layer rules").
        .target(name: "MediaIO", dependencies: ["CPNG", "CSndFile", "CSampleRate"]),
        .target(name: "Metrics", dependencies: ["MediaIO"]),
        .target(name: "Container", dependencies: ["CZlib", "MediaIO"]),
        .target(name: "EntropyCoding"),
        .target(name: "Neural", dependencies: ["COpenBLAS", "CKernels", "EntropyCoding"]),
        .target(name: "Circuits", dependencies: ["Neural", "EntropyCoding"]),
        .target(name: "Wavelets"),
        .target(name: "CodecKit", dependencies: ["MediaIO", "Container", "CZlib"]),
        // Machine perception for `codec score` (OCR, speech recognition): no codec depends on it.
        .target(name: "Perception", dependencies: ["MediaIO", "Neural", "CodecKit", "CTesseract", "CPocketSphinx"]),

        // Codecs: one target each, registered in Sources/codec/Registry.swift.
        .target(name: "Lossless", dependencies: ["CodecKit", "Container", "MediaIO", "EntropyCoding"]),
        .target(name: "TextLM", dependencies: ["CodecKit", "Container", "MediaIO", "Neural", "EntropyCoding"]),
        .target(name: "PCCodec", dependencies: ["CodecKit", "Container", "MediaIO", "Circuits", "EntropyCoding"]),
        .target(name: "WaLLoC", dependencies: ["CodecKit", "Container", "MediaIO", "Neural", "EntropyCoding", "Wavelets"]),
        .target(name: "GRVQ", dependencies: ["CodecKit", "Container", "MediaIO", "Neural", "EntropyCoding"]),
        // The VQGAN extreme-rate image codec (issue 21; docs/VQGAN.md): networks and codec.
        .target(name: "VQGAN", dependencies: ["CodecKit", "Container", "MediaIO", "Neural", "EntropyCoding"]),

        // The CLI imports codec targets only in Sources/codec/Registry.swift.
        .executableTarget(
            name: "codec",
            dependencies: [
                "CodecKit", "Container", "MediaIO", "Metrics", "Lossless", "TextLM", "PCCodec", "WaLLoC", "GRVQ", "VQGAN", "Perception",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .executableTarget(name: "TextBench", dependencies: ["TextLM", "CodecKit", "MediaIO", "Container"], path: "Benchmarks/TextBench"),

        .executableTarget(name: "NeuralBench", dependencies: ["Neural"], path: "Benchmarks/NeuralBench"),

        .executableTarget(name: "pc-tool", dependencies: ["Circuits", "EntropyCoding", "PCCodec", "CodecKit", "Container", "MediaIO", "CZlib"]),

        // One support target for every test target: seeded randomness, paths, fixtures.
        .target(name: "TestSupport", dependencies: ["EntropyCoding"], path: "Tests/TestSupport"),
        .testTarget(name: "MediaIOTests", dependencies: ["MediaIO", "CSampleRate", "TestSupport"]),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics", "MediaIO", "TestSupport"]),
        .testTarget(name: "ContainerTests", dependencies: ["Container", "MediaIO"]),
        .testTarget(name: "EntropyCodingTests", dependencies: ["EntropyCoding", "TestSupport"]),
        .testTarget(name: "NeuralTests", dependencies: ["Neural", "CKernels"], exclude: ["Golden"]),
        .testTarget(name: "CircuitsTests", dependencies: ["Circuits", "TestSupport"]),
        .testTarget(name: "CodecKitTests", dependencies: ["CodecKit", "Container", "MediaIO", "PCCodec", "TextLM", "TestSupport"]),
        .testTarget(name: "LosslessTests", dependencies: ["Lossless", "CodecKit", "Container", "MediaIO", "TestSupport"],
                    exclude: ["Fixtures"]),  // pinned v1 containers and their sources, read by path
        .testTarget(name: "PCCodecTests", dependencies: ["PCCodec", "Circuits", "CodecKit", "Container", "MediaIO", "CZlib", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["MediaIO", "Container", "TestSupport"]),
        .testTarget(name: "PerceptionTests", dependencies: ["Perception", "MediaIO", "Neural", "CodecKit", "TestSupport"]),
        .testTarget(name: "WaveletsTests", dependencies: ["Wavelets"]),
        .testTarget(name: "WaLLoCTests", dependencies: ["WaLLoC", "Wavelets", "Neural", "CodecKit", "Container", "MediaIO", "Metrics", "EntropyCoding", "TestSupport"]),
        .testTarget(name: "GRVQTests", dependencies: ["GRVQ", "Neural", "CodecKit", "Container", "MediaIO", "Perception", "TestSupport"]),
        .testTarget(name: "VQGANTests", dependencies: ["VQGAN", "Neural", "CodecKit", "Container", "MediaIO", "Metrics", "TestSupport"], exclude: ["Golden"]),
        .testTarget(name: "TextLMTests", dependencies: ["TextLM", "Neural", "EntropyCoding", "CodecKit", "Container", "MediaIO", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
