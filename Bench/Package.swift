// swift-tools-version: 6.1
import Foundation
import PackageDescription

// A path dependency is named after its directory, which differs between checkouts.
let custos = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

// Benchmarks live in their own package so the main build and CI never compile them.
let package = Package(
    name: "CustosBench",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "..")
    ],
    targets: [
        // The raw limit: a plain C loop over C_SignInit/C_Sign, sharing no code with Custos.
        .target(name: "CSignLoop", linkerSettings: [.linkedLibrary("dl"), .linkedLibrary("pthread")]),
        // Raw LMDB baselines in plain C.
        .target(name: "CStoreLoop", linkerSettings: [.linkedLibrary("lmdb"), .linkedLibrary("pthread")]),
        .executableTarget(
            name: "StoreBench",
            dependencies: [
                "CStoreLoop",
                .product(name: "MetadataStore", package: custos),
                .product(name: "CustosTestSupport", package: custos),
            ]
        ),
        // The HTTP API under wrk load against the raw C loop on the same token (see README).
        .executableTarget(
            name: "HTTPBench",
            dependencies: ["CSignLoop", .product(name: "PKCS11", package: custos)]
        ),
        // EST simpleenroll and SCEP PKCSReq against REST issuance over HTTPS on one server (a custos binary
        // it starts); the SCEP message is built with the CMS codec.
        .executableTarget(
            name: "EnrollmentBench",
            dependencies: ["CSignLoop", .product(name: "CustosX509", package: custos)]
        ),
        // A CRL of a million entries: time and peak memory.
        .executableTarget(
            name: "CRLBench",
            dependencies: [
                .product(name: "CA", package: custos),
                .product(name: "Signing", package: custos),
                .product(name: "HSM", package: custos),
                .product(name: "PKCS11", package: custos),
                .product(name: "MetadataStore", package: custos),
                .product(name: "CustosTestSupport", package: custos),
            ]
        ),
        .executableTarget(
            name: "SigningBench",
            dependencies: [
                "CSignLoop",
                .product(name: "PKCS11", package: custos),
                .product(name: "HSM", package: custos),
                .product(name: "CustosTestSupport", package: custos),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
