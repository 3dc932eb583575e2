import CustosTestSupport
import Foundation
import MetadataStore

/// A fresh environment in a temporary directory with databases `a` and `b`, and its writer.
func makeStore(mapSize: Int = 64 << 20) throws -> (Environment, StoreWriter, Database) {
    let path = try makeTemporaryDirectory("store")
    let environment = try Environment(.init(path: path, mapSize: mapSize, databases: ["a", "b"]))
    return (environment, StoreWriter(environment: environment), try environment.database("a"))
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A fresh store with the schema's databases and the record types used in tests.
func makeSchema(migrations: [Schema.Migration] = [], path: String? = nil) async throws -> (Schema, StoreWriter) {
    let types = CustosStore.recordTypes
    let environment = try Environment(
        .init(path: try path ?? makeTemporaryDirectory("schema"), databases: Schema.databases(for: types))
    )
    let writer = StoreWriter(environment: environment)
    return (try await Schema.open(environment, writer: writer, types: types, migrations: migrations), writer)
}

func certificate(_ serial: UInt8, issuer: String = "ca-1", notAfter: Int64, batch: String) -> CertificateRecord {
    CertificateRecord(
        issuer: issuer,
        serial: [0x01, serial],
        subject: "CN=device-\(serial),O=Factory",
        notBefore: 0,
        notAfter: notAfter,
        der: [0x30, 0x03, 0x02, 0x01, serial],
        metadata: ["batch": batch, "line": "7"],
        category: "device",
        alternativeNames: ["dns:device-\(serial).test"],
        status: serial % 5 == 0 ? .revoked : .valid
    )
}
