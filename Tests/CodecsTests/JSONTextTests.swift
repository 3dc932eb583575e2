import Codecs
import Foundation
import Testing

/// The hand-written JSON writer says what `JSONEncoder` says (sorted keys, slashes unescaped, ISO 8601
/// dates), byte for byte, for every kind of value it writes.
@Suite struct JSONTextTests {
    struct Sample: Encodable {
        var a: Int
        var b: [String]
        var c: Date
        var d: [String: String]
        var e: String
    }

    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    @Test func writesWhatJSONEncoderWrites() throws {
        let awkward = "\"Quoted\\Name\" Ünïcödé/Slash tab\tnewline\ncr\rnul\u{0}bell\u{7}bs\u{8}ff\u{C}del\u{7F} 😀"
        let samples = [
            Sample(a: 0, b: [], c: Date(timeIntervalSince1970: 0), d: [:], e: ""),
            Sample(
                a: -42,
                b: [awkward, "", "x"],
                c: Date(timeIntervalSince1970: 4_102_444_799),
                d: ["zeta": awkward, "Alpha": "1", "_": "\u{1F}"],
                e: awkward
            ),
            Sample(a: Int.max, b: ["/"], c: Date(timeIntervalSince1970: 1_795_000_123), d: ["k": "v"], e: "plain"),
        ]
        for sample in samples {
            var json = JSONText()
            json.beginObject()
            json.key("a")
            json.integer(sample.a)
            json.key("b")
            json.strings(sample.b)
            json.key("c")
            json.date(Int64(sample.c.timeIntervalSince1970))
            json.key("d")
            json.stringObject(sample.d)
            json.key("e")
            json.string(sample.e)
            json.endObject()
            let expected = try Self.encoder().encode(sample)
            #expect(String(decoding: json.bytes, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
        }
    }

    @Test func pemIsWrittenAsJSONEncoderWritesThePEMText() throws {
        for length in [0, 1, 2, 3, 47, 48, 49, 500] {
            let der = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 13) }
            var json = JSONText()
            json.beginArray()
            json.pem(der, label: "X509 CRL")
            json.endArray()
            let expected = try Self.encoder().encode([PEM.encode(der, label: "X509 CRL")])
            #expect(json.bytes == Array(expected), "\(length) bytes")
        }
    }
}
