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
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
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
        // it starts); the SCEP message is built with the CMS codec. ACME: complete orders from many
        // accounts (an ACME client on NIO here) against REST issuance and against pebble.
        .executableTarget(
            name: "EnrollmentBench",
            dependencies: [
                "CSignLoop", .product(name: "CustosX509", package: custos), .product(name: "Codecs", package: custos),
                .product(name: "CMP", package: custos),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        // Single-node issuance on PostgreSQL against LMDB in one run, and what a certificate costs the
        // database (two custos binaries it starts, a throwaway PostgreSQL 15).
        .executableTarget(
            name: "ClusterBench",
            dependencies: [.product(name: "CustosTestSupport", package: custos)]
        ),
        // The web console's dashboard over a million certificates, through the HTTP server.
        .executableTarget(
            name: "DashboardBench",
            dependencies: [
                .product(name: "Server", package: custos),
                .product(name: "CA", package: custos),
                .product(name: "HSM", package: custos),
                .product(name: "MetadataStore", package: custos),
                .product(name: "CustosTestSupport", package: custos),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
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
