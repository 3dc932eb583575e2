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

    /// MIME bodies (EST): lines of 64 or 76 with CRLF or LF, as Foundation's `.ignoreUnknownCharacters`
    /// reads them, but nothing other than white space is skipped.
    @Test func decodesBase64InLinesSkippingWhiteSpaceOnly() {
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 2, 3, 57, 58, 300, 1000] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            for options: Data.Base64EncodingOptions in [
                [.lineLength64Characters, .endLineWithCarriageReturn, .endLineWithLineFeed],
                [.lineLength76Characters, .endLineWithLineFeed],
            ] {
                let text = Data(bytes).base64EncodedString(options: options) + "\r\n"
                #expect(Base64.decode(ignoringWhitespace: Array(text.utf8)) == bytes, "\(length) bytes")
                // (Foundation reads nothing but white space as no data at all.)
                if length > 0 {
                    #expect(Data(base64Encoded: text, options: .ignoreUnknownCharacters).map(Array.init) == bytes)
                }
            }
        }
        #expect(Base64.decode(ignoringWhitespace: Array("QUJD\n\tRA==".utf8)) == Array("ABCD".utf8))
        for text in ["QU.JD", "QUJD\u{0}", "QUJ", "QUJD-"] {
            #expect(Base64.decode(ignoringWhitespace: Array(text.utf8)) == nil, "\(text)")
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
