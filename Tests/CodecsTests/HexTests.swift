import Codecs
import Foundation
import Testing

/// Hex text for serials, key ids and fingerprints, from any collection of bytes, and back.
@Suite struct HexTests {
    @Test func everyByteIsTwoLowerCaseDigitsFromAnyCollection() {
        let all = (0...255).map { UInt8($0) }
        let expected = all.map { String(format: "%02x", $0) }.joined()
        #expect(Hex.encode(all) == expected)
        #expect(Hex.encode(all[16...]) == String(expected.dropFirst(32)))
        #expect(Hex.encode(Data(all)) == expected)
        #expect(Hex.encode([UInt8]()) == "")
        #expect(Hex.decode(expected) == all)
        #expect(Hex.decode(expected.uppercased()) == all)
        #expect(Hex.decode("abc") == nil && Hex.decode("zz") == nil && Hex.decode("+f") == nil)
        for byte in (0...255).map({ UInt8($0) }) {
            let scalar = Unicode.Scalar(byte)
            #expect(Hex.value(ofDigit: byte) == UInt8(String(Character(scalar)), radix: 16), "\(byte)")
        }
    }
}
