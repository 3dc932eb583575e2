// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Custos",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "custos", targets: ["custos"]),
        .library(name: "PKCS11", targets: ["PKCS11"]),
        .library(name: "HSM", targets: ["HSM"]),
        .library(name: "MetadataStore", targets: ["MetadataStore"]),
        // Throwaway SoftHSM tokens and faults for tests and benchmarks.
        .library(name: "CustosTestSupport", targets: ["CustosTestSupport"]),
        // A PKCS#11 module that forwards to a real one and injects faults; tests load it with dlopen.
        .library(name: "CustosFaultPKCS11", type: .dynamic, targets: ["CFaultPKCS11"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        // pkcs11.h from p11-kit plus a dlopen shim; modules are loaded at run time, never linked.
        .target(name: "CPKCS11", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "CFaultPKCS11", dependencies: ["CPKCS11"]),
        // LMDB from liblmdb-dev.
        .systemLibrary(name: "CLMDB", providers: [.apt(["liblmdb-dev"])]),
        // Joinable threads and a multi-condition monitor for blocking work (HSM sessions, LMDB writes).
        .target(name: "WorkerThreads", swiftSettings: strict),
        .target(
            name: "MetadataStore",
            dependencies: ["CLMDB", "WorkerThreads", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .target(
            name: "PKCS11",
            dependencies: [
                "CPKCS11",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "HSM",
            dependencies: [
                "PKCS11", "WorkerThreads",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "CustosTestSupport",
            dependencies: ["PKCS11", "HSM", "CPKCS11"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "custos",
            dependencies: [
                "PKCS11", "HSM", "MetadataStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PKCS11Tests",
            dependencies: [
                "PKCS11", "CustosTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "HSMTests",
            dependencies: ["HSM", "PKCS11", "CustosTestSupport", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MetadataStoreTests",
            dependencies: ["MetadataStore", "CustosTestSupport", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CustosCLITests",
            dependencies: ["HSM", "PKCS11", "MetadataStore", "CustosTestSupport"],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
