import MetadataStore
import Testing

@Suite struct KeyTests {
    struct Tuple: Comparable {
        var number: Int64
        var name: String
        var serial: UInt64
        static func < (l: Tuple, r: Tuple) -> Bool {
            if l.number != r.number { return l.number < r.number }
            if l.name != r.name { return Array(l.name.utf8).lexicographicallyPrecedes(Array(r.name.utf8)) }
            return l.serial < r.serial
        }
        var key: Key { Key().appending(number).appending(name).appending(serial) }
    }

    @Test func byteOrderMatchesTheOrderOfTheParts() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["a", "b", "z", "\u{0}", "é", "\u{1}"]
        let tuples = (0..<2000).map { _ in
            Tuple(
                number: Int64.random(in: -5...5, using: &generator),
                name: String((0..<Int.random(in: 0...3, using: &generator)).map { _ in alphabet.randomElement()! }),
                serial: [0, 1, 255, 256, UInt64.max].randomElement()!
            )
        }
        let bySemantics = tuples.sorted()
        let byBytes = tuples.sorted { $0.key < $1.key }
        #expect(bySemantics.map(\.key) == byBytes.map(\.key))
    }

    @Test func partsReadBackInOrder() throws {
        let key = Key().appending(Int64(-42)).appending("issuer\u{0}name").appending(UInt64(7)).appending("")
        var reader = KeyReader(key.bytes)
        #expect(try reader.readInt64() == -42)
        #expect(try reader.readString() == "issuer\u{0}name")
        #expect(try reader.readUInt64() == 7)
        #expect(try reader.readString() == "")
        #expect(reader.isAtEnd)
    }

    @Test func malformedKeysAreErrors() {
        var short = KeyReader([1, 2, 3])
        #expect(throws: StoreError.self) { try short.readUInt64() }
        var unterminated = KeyReader([0x61, 0x62])
        #expect(throws: StoreError.self) { try unterminated.readString() }
        var badEscape = KeyReader([0x61, 0x00, 0x07])
        #expect(throws: StoreError.self) { try badEscape.readBytes() }
    }

    @Test func prefixEndBoundsAPrefixScan() {
        let prefix = Key().appending("ca-1")
        let inside = prefix.appending(UInt64.max)
        let outside = Key().appending("ca-2")
        let end = prefix.prefixEnd!
        #expect(inside.bytes.lexicographicallyPrecedes(end))
        #expect(!outside.bytes.lexicographicallyPrecedes(end))
        #expect(Key(bytes: [0xFF, 0xFF]).prefixEnd == nil)
        #expect(Key(bytes: [0x01, 0xFF]).prefixEnd == [0x02])
    }
}
