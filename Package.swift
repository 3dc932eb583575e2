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
        .library(name: "Codecs", targets: ["Codecs"]),
        .library(name: "PKCS11", targets: ["PKCS11"]),
        .library(name: "HSM", targets: ["HSM"]),
        .library(name: "MetadataStore", targets: ["MetadataStore"]),
        .library(name: "Signing", targets: ["Signing"]),
        .library(name: "CustosX509", targets: ["CustosX509"]),
        .library(name: "CA", targets: ["CA"]),
        .library(name: "OCSP", targets: ["OCSP"]),
        .library(name: "Server", targets: ["Server"]),
        .library(name: "Vault", targets: ["Vault"]),
        .library(name: "Enrollment", targets: ["Enrollment"]),
        .library(name: "SCEP", targets: ["SCEP"]),
        .library(name: "CMP", targets: ["CMP"]),
        .library(name: "ACME", targets: ["ACME"]),
        .library(name: "Access", targets: ["Access"]),
        .library(name: "APIModels", targets: ["APIModels"]),
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
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
    ],
    targets: [
        // pkcs11.h from p11-kit plus a dlopen shim; modules are loaded at run time, never linked.
        .target(name: "CPKCS11", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "CFaultPKCS11", dependencies: ["CPKCS11"]),
        // PKCS#12 parsing with OpenSSL's libcrypto (libssl-dev): CA key import only.
        .target(name: "CPKCS12", linkerSettings: [.linkedLibrary("crypto")]),
        // LMDB from liblmdb-dev.
        .systemLibrary(name: "CLMDB", providers: [.apt(["liblmdb-dev"])]),
        // Hand-written codecs (base64, hex, PEM, JSON text and flat JSON, HTTP dates): the only place for
        // them, with no dependencies; each is compared with Foundation or swift-asn1 in CodecsTests.
        .target(name: "Codecs", swiftSettings: strict),
        // The web console's pages: Mustache templates (HTML-escaped values), the stylesheet, and every word
        // in English and German. The server's console routes fill them.
        .target(
            name: "Console",
            dependencies: [.product(name: "Mustache", package: "swift-mustache")],
            swiftSettings: strict
        ),
        // Syslog: the RFC 5424 encoder (the only one), destinations over UDP, TCP and TLS, a sender that
        // never makes its caller wait, and a swift-log handler.
        .target(
            name: "Syslog",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Joinable threads and a multi-condition monitor for blocking work (HSM sessions, LMDB writes).
        // Custos' own SMTP client (STARTTLS or implicit TLS, AUTH PLAIN/LOGIN) and MIME messages: no
        // maintained Swift SMTP client is in the mirror.
        .target(
            name: "Mail",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        // Custos' own AgentX subagent (RFC 2741): PDUs, the MIB view's searches and the session with
        // snmpd as master agent. No Swift AgentX implementation exists.
        .target(
            name: "AgentX",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(name: "WorkerThreads", swiftSettings: strict),
        .target(
            name: "MetadataStore",
            dependencies: [
                "CLMDB", "WorkerThreads", "Codecs", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "PKCS11",
            dependencies: [
                "CPKCS11", "Codecs",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "HSM",
            dependencies: [
                "PKCS11", "WorkerThreads", "Codecs",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        // The CryptoAPI: key registry, signing with batching across pooled sessions, code signing (CMS).
        .target(
            name: "Signing",
            dependencies: [
                "HSM", "PKCS11", "MetadataStore", "Codecs", "CustosX509",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // X.509 pieces swift-certificates lacks, written with swift-asn1: CRLs, CMS SignedData and
        // EnvelopedData, PKCS#12, extension codecs (CRL distribution points, policies, OCSP no-check),
        // distinguished names as text.
        .target(
            name: "CustosX509",
            dependencies: [
                "Codecs",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            swiftSettings: strict
        ),
        // ACME's messages (RFC 8555): JWS request bodies and their keys (RFC 7515, 7517, 7518, 7638, 8037),
        // problem documents.
        .target(
            name: "ACME",
            dependencies: [
                "Codecs",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // ACME challenge validation (RFC 8555 section 8, RFC 8737, RFC 8738): http-01, dns-01 and tls-alpn-01
        // checked over the network with bounded time and concurrency, names looked up with its own resolver.
        .target(
            name: "ACMEValidation",
            dependencies: [
                "ACME", "Codecs",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // SCEP messages (RFC 8894): requests read, CertReps encoded, capabilities; CMS from CustosX509.
        .target(
            name: "SCEP",
            dependencies: [
                "CustosX509",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            swiftSettings: strict
        ),
        // CMP messages (RFC 9810, RFC 4211, RFC 9483): PKIMessage with its header and bodies, CRMF requests,
        // MAC (PasswordBasedMac, PBMAC1) and signature protection.
        .target(
            name: "CMP",
            dependencies: [
                "CustosX509",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            swiftSettings: strict
        ),
        // The certificate authority: CAs with HSM keys, issuance under policies, revocation, CRLs.
        .target(
            name: "CA",
            dependencies: [
                "Signing", "HSM", "PKCS11", "MetadataStore", "WorkerThreads", "CPKCS12", "Codecs", "CustosX509",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            swiftSettings: strict
        ),
        // The OCSP responder: request and response types, live and pre-signed answers, delegated
        // signers, and signing ahead under a store lease.
        .target(
            name: "OCSP",
            dependencies: [
                "CA", "CustosX509", "Signing", "HSM", "MetadataStore", "Codecs", "WorkerThreads",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // Enrollment through standard protocols: profiles, client secrets and authentication, issuing or
        // holding requests for approval. The protocols' messages are parsed by the server (EST) and by
        // their own modules.
        .target(
            name: "Enrollment",
            dependencies: [
                "CA", "CustosX509", "MetadataStore", "Codecs", "HSM", "PKCS11", "Signing", "SCEP", "CMP", "ACME",
                "ACMEValidation",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            swiftSettings: strict
        ),
        // HSM keys as TLS keys for swift-nio-ssl: the HTTPS server's, and upstream connectors' client keys.
        .target(
            name: "HSMTLS",
            dependencies: [
                "HSM", "PKCS11", "Signing",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            swiftSettings: strict
        ),
        // Custos as a registration authority toward CAs elsewhere: connectors (CMP) that carry requests
        // its CAs accept to an upstream CA, signed by the RA's HSM key, and bring back what it issued.
        .target(
            name: "Upstream",
            dependencies: [
                "CA", "CMP", "ACME", "CustosX509", "Signing", "MetadataStore", "HSMTLS", "HSM", "PKCS11", "Codecs",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Notifications: channels (mail, webhooks), rules, the outbox written in the event's transaction,
        // and its delivery with retries.
        .target(
            name: "Notifications",
            dependencies: [
                "CA", "Vault", "Mail", "AgentX", "APIModels", "MetadataStore", "HSM", "Codecs", "CustosX509",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The secret vault: secrets encrypted in the HSM under per-namespace key-encryption keys.
        .target(
            name: "Vault",
            dependencies: [
                "HSM", "PKCS11", "MetadataStore", "Signing", "Codecs",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // Key ceremonies: strict ceremony files, M-of-N PIN shares, checked key generation and root
        // signing, signed transcripts.
        .target(
            name: "Ceremony",
            dependencies: [
                "CA", "CustosX509", "Signing", "HSM", "PKCS11", "Codecs",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        // Who may do what: credentials, roles, tenants, key and namespace patterns, rate limits (no HTTP types).
        .target(
            name: "Access",
            dependencies: ["MetadataStore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        // The request and answer bodies of the HTTP API, shared by the server and the CLI (and the
        // schemas of docs/openapi.yaml).
        .target(name: "APIModels", swiftSettings: strict),
        // HTTP: routes, authentication and authorisation, errors, metrics (Hummingbird 2 on SwiftNIO).
        .target(
            name: "Server",
            dependencies: [
                "APIModels", "Signing", "CA", "OCSP", "Vault", "Ceremony", "Enrollment", "SCEP", "Access", "CustosX509",
                "HSM", "ACME", "ACMEValidation", "Upstream", "HSMTLS", "Console", "Syslog", "Notifications", "AgentX",
                "PKCS11",
                "MetadataStore",
                "Codecs",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "CustosTestSupport",
            dependencies: ["PKCS11", "HSM", "CPKCS11", "MetadataStore", "Signing", "Codecs", "WorkerThreads"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "custos",
            dependencies: [
                "APIModels", "PKCS11", "HSM", "MetadataStore", "Signing", "Server", "CA", "OCSP", "Ceremony", "Access",
                "CustosX509", "Syslog", "Notifications",
                "Codecs",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CodecsTests",
            dependencies: ["Codecs", "CustosTestSupport", .product(name: "SwiftASN1", package: "swift-asn1")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CMPTests",
            dependencies: [
                "CMP", "CustosX509", "CustosTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ACMETests",
            dependencies: [
                "ACME", "ACMEValidation", "Codecs", "CustosTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CustosX509Tests",
            dependencies: [
                "CustosX509", "CustosTestSupport", .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SigningTests",
            dependencies: [
                "Signing", "PKCS11", "MetadataStore", "CustosTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CATests",
            dependencies: [
                "CA", "CustosX509", "Codecs", "MetadataStore", "CustosTestSupport",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EnrollmentTests",
            dependencies: [
                "Enrollment", "CA", "CustosX509", "Codecs", "MetadataStore", "CustosTestSupport", "HSM", "PKCS11",
                "ACME",
                "ACMEValidation",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "VaultTests",
            dependencies: ["Vault", "MetadataStore", "CustosTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "OCSPTests",
            dependencies: [
                "OCSP", "CA", "CustosX509", "Codecs", "MetadataStore", "CustosTestSupport",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "AccessTests",
            dependencies: ["Access", "MetadataStore", "CustosTestSupport"],
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
            dependencies: [
                "HSM", "PKCS11", "WorkerThreads", "CustosTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "WorkerThreadsTests", dependencies: ["WorkerThreads"], swiftSettings: strict),
        .testTarget(
            name: "MetadataStoreTests",
            dependencies: ["MetadataStore", "CustosTestSupport", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .testTarget(name: "ConsoleTests", dependencies: ["Console"], swiftSettings: strict),
        .testTarget(
            name: "NotificationsTests",
            dependencies: [
                "Notifications", "Mail", "AgentX", "APIModels", "MetadataStore", "CA", "CustosTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "Server", "Syslog", "APIModels", "Access", "Signing", "CA", "OCSP", "Enrollment", "CMP", "CustosX509",
                "HSM",
                "PKCS11",
                "MetadataStore",
                "Codecs",
                "CustosTestSupport",
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            // Python clients for messages the command-line tools cannot send; the tests run them.
            exclude: ["Enrollment/Scripts"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CustosCLITests",
            dependencies: [
                "HSM", "PKCS11", "MetadataStore", "Codecs", "CustosX509", "CustosTestSupport", "Ceremony",
                "WorkerThreads",
            ],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
