// swift-tools-version: 6.1
import Foundation
import PackageDescription

// A path dependency is named after its directory, which differs between checkouts.
let custos = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

/// One libFuzzer target per parser the network reaches. Built only by scripts/fuzz.sh, with
/// `-sanitize=fuzzer,address`, never by the main build. Each target's main hands libFuzzer's driver
/// its input function (`FuzzDriver`).
let targets: [(name: String, products: [String])] = [
    ("FuzzOCSPRequest", ["OCSP", "Codecs"]),
    ("FuzzCSR", ["CA"]),
    ("FuzzCertificateImport", ["CA"]),
    ("FuzzFlatJSON", ["Codecs"]),
    ("FuzzPEM", ["Codecs"]),
    ("FuzzDistinguishedName", ["CA"]),
    ("FuzzTimestampReply", ["Signing"]),
    ("FuzzHTTPHead", ["Server"]),
    ("FuzzESTRequest", ["Server", "CA", "Enrollment"]),
    ("FuzzSCEPMessage", ["SCEP", "CustosX509"]),
    ("FuzzACMEJWS", ["ACME"]),
    ("FuzzDNSMessage", ["Codecs"]),
    ("FuzzCMPMessage", ["CMP"]),
]

let package = Package(
    name: "CustosFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
    ],
    targets: [.target(name: "FuzzDriver")]
        + targets.map { target in
            .executableTarget(
                name: target.name,
                dependencies: ["FuzzDriver"] + target.products.map { .product(name: $0, package: custos) }
                    + (target.name == "FuzzHTTPHead" || target.name == "FuzzESTRequest"
                        ? [
                            .product(name: "NIOCore", package: "swift-nio"),
                            .product(name: "NIOEmbedded", package: "swift-nio"),
                            .product(name: "NIOHTTP1", package: "swift-nio"),
                        ] : []),
                swiftSettings: [.swiftLanguageMode(.v6)]
            )
        }
)
