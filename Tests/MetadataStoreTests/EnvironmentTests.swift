import CustosTestSupport
import Foundation
import MetadataStore
import Testing

@Suite struct EnvironmentTests {
    @Test func valuesRoundTripThroughWritesAndReads() async throws {
        let (environment, writer, a) = try makeStore()
        let b = try environment.database("b")
        try await writer.write { txn in
            try txn.put(a, bytes("k1"), bytes("v1"))
            try txn.put(b, bytes("k1"), bytes("other database"))
        }
        #expect(try environment.read { try $0.get(a, bytes("k1")) } == bytes("v1"))
        #expect(try environment.read { try $0.get(b, bytes("k1")) } == bytes("other database"))
        try await writer.write { txn in try txn.put(a, bytes("k1"), bytes("v2")) }
        #expect(try environment.read { try $0.get(a, bytes("k1")) } == bytes("v2"))
        let removed = try await writer.write { txn in try txn.delete(a, bytes("k1")) }
        #expect(removed)
        #expect(try environment.read { try $0.get(a, bytes("k1")) } == nil)
        #expect(try await writer.write { txn in try txn.delete(a, bytes("k1")) } == false)
    }

    @Test func dataSurvivesReopening() async throws {
        let path = try makeTemporaryDirectory("reopen")
        do {
            let environment = try Environment(.init(path: path, databases: ["a"]))
            let writer = StoreWriter(environment: environment)
            let a = try environment.database("a")
            try await writer.write { try $0.put(a, bytes("durable"), bytes("yes")) }
            writer.shutdown()
        }
        let reopened = try Environment(.init(path: path, databases: ["a"]))
        let a = try reopened.database("a")
        #expect(try reopened.read { try $0.get(a, bytes("durable")) } == bytes("yes"))
        let mode = try FileManager.default.attributesOfItem(atPath: "\(path)/data.mdb")[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
    }

    @Test func scansReturnKeysInOrderAndPaginate() async throws {
        let (environment, writer, a) = try makeStore()
        let numbers = (0..<300).shuffled()
        try await writer.write { txn in
            for number in numbers { try txn.put(a, Key().appending(UInt64(number)).bytes, bytes("\(number)")) }
        }
        var seen: [UInt64] = []
        var cursor = Key().appending(UInt64(0)).bytes
        while true {
            let page = try environment.read { try $0.scan(a, from: cursor, limit: 64) }
            for entry in page {
                var reader = KeyReader(entry.key)
                seen.append(try reader.readUInt64())
            }
            guard page.count == 64, let last = page.last else { break }
            cursor = last.key + [0]  // the next key after the last one of the page
        }
        #expect(seen == (0..<300).map(UInt64.init))
        let bounded = try environment.read {
            try $0.scan(a, from: Key().appending(UInt64(10)).bytes, to: Key().appending(UInt64(20)).bytes)
        }
        #expect(bounded.count == 10)
        #expect(try environment.read { try $0.count(a) } == 300)
    }

    @Test func manyConcurrentReadsFromAsyncCode() async throws {
        let (environment, writer, a) = try makeStore()
        try await writer.write { txn in for index in 0..<100 { try txn.put(a, bytes("key\(index)"), bytes("\(index)")) }
        }
        // MDB_NOTLS: read transactions are not tied to threads, so tasks hopping threads are fine.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<400 {
                group.addTask {
                    let value = try environment.read { try $0.get(a, bytes("key\(index % 100)")) }
                    #expect(value == bytes("\(index % 100)"))
                }
            }
            try await group.waitForAll()
        }
    }
}
