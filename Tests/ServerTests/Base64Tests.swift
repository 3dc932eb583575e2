import Foundation
import Testing

@testable import Server

/// The byte-level base64 decoder that OCSP GET paths and JSON fields go through.
@Suite struct Base64Tests {
    @Test func decodesWhatFoundationEncodes() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let text = Data(bytes).base64EncodedString()
            #expect(Base64.decode(text) == bytes, "\(length) bytes: \(text)")
        }
    }

    @Test func refusesWhatIsNotPaddedStandardBase64() {
        for text in ["A", "AB", "ABC", "AB=C", "A===", "====", "@AAA", "AA==AA==", "AAAA=", "AA-_", "AAAA\n", "ÄAAA"] {
            #expect(Base64.decode(text) == nil, "\(text)")
        }
    }
}
