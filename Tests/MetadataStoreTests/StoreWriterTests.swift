import CustosTestSupport
import Foundation
import MetadataStore
import Synchronization
import Testing

struct Refused: Error {}

@Suite struct StoreWriterTests {
    @Test func concurrentWritesShareCommits() async throws {
        let (environment, writer, a) = try makeStore()
        let count = 300
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<count {
                group.addTask { try await writer.write { try $0.put(a, bytes("w\(index)"), bytes("\(index)")) } }
            }
            try await group.waitForAll()
        }
        let statistics = writer.statistics
        #expect(statistics.writes == count)
        #expect(statistics.commits < count, "\(statistics)")
        #expect(statistics.largestGroup > 1)
        // Every acknowledged write is there.
        for index in 0..<count {
            #expect(try environment.read { try $0.get(a, bytes("w\(index)")) } == bytes("\(index)"))
        }
    }

    @Test func aFailingWriteIsRolledBackAloneAndTheRestCommit() async throws {
        let (environment, writer, a) = try makeStore()
        let outcomes = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            for index in 0..<60 {
                group.addTask {
                    do {
                        try await writer.write { txn in
                            try txn.put(a, bytes("x\(index)"), bytes("\(index)"))
                            if index % 5 == 0 { throw Refused() }
                        }
                        return (index, true)
                    } catch is Refused {
                        return (index, false)
                    }
                }
            }
            return try await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
        }
        for index in 0..<60 {
            let stored = try environment.read { try $0.get(a, bytes("x\(index)")) }
            #expect(outcomes[index] == (index % 5 != 0))
            #expect((stored != nil) == (index % 5 != 0), "x\(index)")
        }
        #expect(writer.statistics.failures == 12)
    }

    /// One group, held back until every write is queued: writes see the writes before them in the
    /// group, a failing write is rolled back alone, and the others — run a second time after the failure
    /// abandoned the group's first attempt — count exactly once.
    @Test(.timeLimit(.minutes(1))) func aGroupWithAFailingWriteRunsAgainAndCountsEachWriteOnce() async throws {
        let (environment, writer, a) = try makeStore()
        try await writer.write { try $0.put(a, bytes("counter"), [0]) }
        let gate = DispatchSemaphore(value: 0)
        let holdingWriter = Mutex(false)
        let holding = Task {
            try await writer.write { _ in
                holdingWriter.withLock { $0 = true }
                gate.wait()
            }
        }
        while !holdingWriter.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(2)) }
        let increments = 12
        let results = Task {
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<increments {
                    group.addTask {
                        do {
                            try await writer.write { txn in
                                let count = try txn.get(a, bytes("counter"))?.first ?? 0
                                try txn.put(a, bytes("counter"), [count + 1])
                                try txn.put(a, bytes("seen\(index)"), [count])
                                if index == 7 { throw Refused() }
                            }
                            return true
                        } catch is Refused { return false }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
        }
        while writer.statistics.queued < increments { try await Task.sleep(for: .milliseconds(2)) }
        let commitsBefore = writer.statistics.commits
        gate.signal()
        try await holding.value
        let outcomes = try await results.value
        #expect(outcomes.filter { $0 }.count == increments - 1)
        let statistics = writer.statistics
        #expect(statistics.commits == commitsBefore + 2, "the held write, then one group: \(statistics)")
        #expect(statistics.largestGroup == increments - 1)
        #expect(statistics.failures == 1)
        // Each write saw the ones before it, and the refused one left nothing behind.
        #expect(try environment.read { try $0.get(a, bytes("counter")) } == [UInt8(increments - 1)])
        let seen = try environment.read { txn in
            try (0..<increments).map { index in try txn.get(a, bytes("seen\(index)"))?.first }
        }
        #expect(seen[7] == nil)
        #expect(Set(seen.compactMap { $0 }) == Set((0..<UInt8(increments - 1))))
    }

    @Test func aFullMapIsAClearErrorAndKeepsWhatWasStored() async throws {
        let path = try makeTemporaryDirectory("full")
        let environment = try Environment(.init(path: path, mapSize: 1 << 20, maxMapSize: 1 << 20, databases: ["a"]))
        let writer = StoreWriter(environment: environment)
        let a = try environment.database("a")
        try await writer.write { try $0.put(a, bytes("kept"), bytes("before the map filled")) }
        var error: StoreError?
        for index in 0..<64 {
            do {
                try await writer.write { try $0.put(a, bytes("big\(index)"), [UInt8](repeating: 7, count: 64 << 10)) }
            } catch let failure as StoreError {
                error = failure
                break
            }
        }
        #expect(error?.code == .mapFull)
        #expect(error?.description.contains("MDB_MAP_FULL") == true, "\(String(describing: error))")
        #expect(try environment.read { try $0.get(a, bytes("kept")) } == bytes("before the map filled"))
        // Small writes still fit after the failed one was rolled back.
        try await writer.write { try $0.put(a, bytes("after"), bytes("ok")) }
        #expect(try environment.read { try $0.get(a, bytes("after")) } == bytes("ok"))
    }

    @Test func theMapGrowsWhenAWriteDoesNotFit() async throws {
        let path = try makeTemporaryDirectory("grow")
        let environment = try Environment(.init(path: path, mapSize: 1 << 20, maxMapSize: 16 << 20, databases: ["a"]))
        let writer = StoreWriter(environment: environment)
        let a = try environment.database("a")
        // A reader keeps reading while the writer grows the map. It runs on a thread of its own: a loop
        // that never suspends on the cooperative pool (2 threads here) can starve the test's own task.
        let reads = Mutex(0)
        let stop = Mutex(false)
        let finished = Mutex(false)
        Thread.detachNewThread {
            while !stop.withLock({ $0 }) {
                _ = try? environment.read { try $0.get(a, bytes("big0")) }
                reads.withLock { $0 += 1 }
            }
            finished.withLock { $0 = true }
        }
        for index in 0..<48 {
            try await writer.write {
                try $0.put(a, bytes("big\(index)"), [UInt8](repeating: UInt8(index), count: 64 << 10))
            }
        }
        stop.withLock { $0 = true }
        while !finished.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
        #expect(reads.withLock { $0 } > 0)
        #expect(writer.statistics.mapGrowths >= 1)
        #expect(environment.usage().mapSize > 1 << 20)
        for index in [0, 47] {
            #expect(
                try environment.read { try $0.get(a, bytes("big\(index)")) }
                    == [UInt8](repeating: UInt8(index), count: 64 << 10)
            )
        }
    }

    // The limit catches a reader that never lets the map grow (a hang); a loaded CI disk has taken two
    // minutes for the 24 synced writes.
    @Test(.timeLimit(.minutes(4))) func readsNestOnOneThreadAndLeaveTheMapFreeToGrow() async throws {
        let path = try makeTemporaryDirectory("nested")
        let environment = try Environment(.init(path: path, mapSize: 1 << 20, maxMapSize: 8 << 20, databases: ["a"]))
        let writer = StoreWriter(environment: environment)
        let a = try environment.database("a")
        try await writer.write { try $0.put(a, bytes("k"), bytes("v")) }
        let inner = try environment.read { outer in
            try environment.read { try $0.get(a, bytes("k")) }.map { $0 + (try outer.get(a, bytes("k")) ?? []) }
        }
        #expect(inner == bytes("vv"))
        // The gate was released: growing needs every reader gone.
        for index in 0..<24 {
            try await writer.write {
                try $0.put(a, bytes("big\(index)"), [UInt8](repeating: UInt8(index), count: 64 << 10))
            }
        }
        #expect(writer.statistics.mapGrowths >= 1)
    }

    @Test func writesAfterShutdownFail() async throws {
        let (_, writer, a) = try makeStore()
        writer.shutdown()
        await #expect(throws: StoreError.self) { try await writer.write { try $0.put(a, bytes("late"), bytes("x")) } }
    }

    @Test func oversizedKeysAreRefused() async throws {
        let (_, writer, a) = try makeStore()
        await #expect(throws: StoreError.self) {
            try await writer.write { try $0.put(a, [UInt8](repeating: 1, count: 600), bytes("x")) }
        }
    }
}
