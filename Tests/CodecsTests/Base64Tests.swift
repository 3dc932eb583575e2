import Codecs
import Foundation
import Testing

/// The byte-level base64 decoder that OCSP GET paths and JSON fields go through, and the encoder that
/// writes certificates into issuance answers.
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

    @Test func encodesWhatFoundationEncodesInLinesOrNot() {
        var generator = SystemRandomNumberGenerator()
        for length in Array(0...200) + [1000, 1001, 1002, 4095] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var lines: [UInt8] = [9]
            Base64.encode(bytes, into: &lines)
            let expected = Data(bytes).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
            #expect(lines == [9] + Array(expected.utf8), "\(length) bytes")
            var oneLine: [UInt8] = []
            Base64.encode(bytes, into: &oneLine, lineLength: 1 << 20)
            #expect(oneLine == Array(Data(bytes).base64EncodedString().utf8), "\(length) bytes")
            #expect(Base64.decode(oneLine) == bytes)
        }
    }

    @Test func pemTextIsWhatFoundationsBase64MakesBetweenTheLabels() {
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 2, 3, 47, 48, 49, 96, 500] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let body = Data(bytes).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
            #expect(
                PEM.encode(bytes, label: "X509 CRL") == "-----BEGIN X509 CRL-----\n\(body)\n-----END X509 CRL-----",
                "\(length) bytes"
            )
        }
    }
}
