import Testing

@testable import Server

/// The table behind the OCSP fast path's cache keeps what was stored lately and stays bounded.
@Suite struct GenerationalTableTests {
    /// Keys asked for in turn, stored on a miss, as the fast path does.
    static func hits(keys: Int, capacity: Int, rounds: Int) -> (hits: Int, largest: Int) {
        var table = GenerationalTable<Int, String>(capacity: capacity)
        var hits = 0
        var largest = 0
        for _ in 0..<rounds {
            for key in 0..<keys {
                if let value = table.value(key) {
                    #expect(value == "v\(key)")
                    hits += 1
                } else {
                    table.insert("v\(key)", for: key)
                }
                largest = max(largest, table.count)
            }
        }
        return (hits, largest)
    }

    @Test func keysAskedForInTurnAreFoundUpToTwiceTheCapacity() {
        // 7 keys, capacity 4: a table that started over when full would find none of them.
        let within = Self.hits(keys: 7, capacity: 4, rounds: 5)
        #expect(within.hits == 7 * 4)
        #expect(within.largest <= 8)
        let atTwice = Self.hits(keys: 8, capacity: 4, rounds: 5)
        #expect(atTwice.hits == 8 * 4)
        // Beyond twice the capacity each key has gone before it comes round again; the table stays bounded.
        let beyond = Self.hits(keys: 9, capacity: 4, rounds: 5)
        #expect(beyond.hits == 0)
        #expect(beyond.largest <= 8)
    }

    @Test func anEntryLastsAtLeastOneAndAtMostTwoGenerations() {
        var table = GenerationalTable<Int, Int>(capacity: 3)
        table.insert(100, for: 0)
        table.insert(1, for: 1)
        table.insert(2, for: 2)
        table.insert(3, for: 3)  // the first generation (0, 1, 2) becomes the previous one
        #expect(table.value(0) == 100)
        table.insert(4, for: 4)
        table.insert(5, for: 5)
        #expect(table.value(0) == 100)
        table.insert(6, for: 6)  // (3, 4, 5) becomes the previous one; (0, 1, 2) is dropped
        #expect(table.value(0) == nil)
        #expect(table.value(2) == nil)
        #expect(table.value(3) == 3)
        #expect(table.value(6) == 6)
        #expect(table.count == 4)
    }

    @Test func storingAKeyAgainReplacesItsValueWithoutFillingTheTable() {
        var table = GenerationalTable<String, Int>(capacity: 2)
        table.insert(1, for: "a")
        table.insert(2, for: "b")
        for value in 3...10 { table.insert(value, for: "a") }
        #expect(table.value("a") == 10)
        #expect(table.value("b") == 2)
        #expect(table.count == 2)
        // A key in the previous generation stored again moves to the current one and is held once.
        table.insert(11, for: "c")  // (a, b) becomes the previous generation
        table.insert(12, for: "a")
        #expect(table.count == 3)
        #expect(table.value("a") == 12)
    }
}
