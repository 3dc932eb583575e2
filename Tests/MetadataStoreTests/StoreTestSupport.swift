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
