import CustosTestSupport
import Foundation
import MetadataStore
import Testing

@Suite struct BadStoreFileTests {
    @Test func aForeignDataFileIsReportedAsCorruptAndLeftAlone() throws {
        let path = try makeTemporaryDirectory("foreign")
        let garbage = Data((0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try garbage.write(to: URL(fileURLWithPath: "\(path)/data.mdb"))
        do {
            _ = try Environment(.init(path: path, databases: ["a"]))
            Issue.record("opened a foreign file")
        } catch {
            #expect(error.code == .corrupt, "\(error)")
            #expect(error.description.contains(path))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(path)/data.mdb")) == garbage)
    }

    @Test func anUnwritableLocationIsAClearError() throws {
        // Root ignores permission bits, so use a place no one can create directories in.
        do {
            _ = try Environment(.init(path: "/proc/custos-store", databases: ["a"]))
            Issue.record("created a store under /proc")
        } catch {
            #expect(error.code == .unavailable, "\(error)")
            #expect(error.description.contains("/proc/custos-store"))
        }
    }

    @Test func unknownDatabaseNamesAreErrors() throws {
        let (environment, _, _) = try makeStore()
        #expect(throws: StoreError.self) { try environment.database("missing") }
    }
}
