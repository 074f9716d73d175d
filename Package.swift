// swift-tools-version:6.0
import PackageDescription

// Release builds need a -target-cpu with AVX2/FMA on x86-64: without one every fused multiply-add
// becomes a libm call (see ../shared/notes/toolchain.md). `haswell` keeps the binary portable to any
// AVX2 machine; other architectures build with their defaults.
#if arch(x86_64)
let optimizedSettings: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", "haswell"], .when(configuration: .release)),
]
#else
let optimizedSettings: [SwiftSetting] = []
#endif

let package = Package(
    name: "ptq",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "ptq", targets: ["ptq"]),
        .library(name: "PTQEngine", targets: ["PTQEngine"]),
        .library(name: "PTQShell", targets: ["PTQShell"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", exact: "0.9.20"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibEdit", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),
        // Image decoding: libjpeg-turbo and libpng behind a C wrapper that keeps their longjmp error handling in C.
        .systemLibrary(name: "CLibJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CLibPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .target(name: "CImageCodecs", dependencies: ["CLibJPEG", "CLibPNG"]),
        // The generated ONNX schema, in a target of its own so engine edits do not recompile it.
        .target(name: "ONNXProto", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .target(
            name: "PTQEngine",
            dependencies: [
                "ONNXProto", "CImageCodecs",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: optimizedSettings),
        .target(name: "PTQShell", dependencies: ["PTQEngine"], swiftSettings: optimizedSettings),
        .executableTarget(name: "ptq", dependencies: ["PTQShell", "CLibEdit"]),
        .executableTarget(
            name: "ptq-fuzz",
            dependencies: [
                "PTQShell", "PTQEngine", "ONNXProto",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            // A command-line driver with top-level state: Swift 5 mode spares it actor annotations.
            swiftSettings: optimizedSettings + [.swiftLanguageMode(.v5)]),
        .executableTarget(name: "ptq-bench", dependencies: ["PTQEngine"], swiftSettings: optimizedSettings),
        .testTarget(
            name: "PTQEngineTests",
            dependencies: ["PTQEngine", "ONNXProto", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            exclude: ["Fixtures"], swiftSettings: optimizedSettings),
        .testTarget(
            name: "PTQShellTests", dependencies: ["PTQShell", "PTQEngine"],
            exclude: ["Golden"], swiftSettings: optimizedSettings),
    ],
    swiftLanguageModes: [.v6]
)
