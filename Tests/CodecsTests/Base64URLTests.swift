import Codecs
import Foundation
import Testing

/// base64url without padding (JWS), compared with Foundation's base64 with the URL-safe alphabet
/// substituted and the padding removed.
@Suite struct Base64URLTests {
    static func foundation(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    @Test func encodesAndDecodesAsFoundationDoesWithTheURLAlphabet() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let text = Self.foundation(bytes)
            #expect(Base64URL.encode(bytes) == text, "\(length) bytes")
            #expect(Base64URL.decode(text) == bytes, "\(length) bytes: \(text)")
        }
        // Bytes whose standard base64 has '+' and '/'.
        #expect(Base64URL.encode([0xFB, 0xFF, 0xBF]) == "-_-_")
    }

    @Test func refusesPaddingTheStandardAlphabetAndImpossibleLengths() {
        for text in ["A", "AAAAA", "AA==", "AAA=", "+AAA", "/AAA", "AA AA", "AA\n", "ÄAAA", "AB.C"] {
            #expect(Base64URL.decode(text) == nil, "\(text)")
        }
    }
}
