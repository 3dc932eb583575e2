import Foundation
import MetadataStore
import Testing

@testable import Server

/// The hand-written JSON of issued certificates says what `JSONEncoder` says, byte for byte.
@Suite struct CertificateViewJSONTests {
    @Test func certificateViewMatchesJSONEncoder() throws {
        let awkward = "CN=\"Quoted\\Name\",O=Ünïcödé/Slash,OU=tab\tnewline\ncr\rnul\u{0}bell\u{7}del\u{7F}, 😀"
        let records = [
            CertificateRecord(
                issuer: "line-ca",
                serial: [0x01, 0xAB, 0xFF],
                subject: awkward,
                notBefore: 1_795_000_000 * 1_000_000_000,
                notAfter: 4_102_444_799 * 1_000_000_000,
                der: Array(0...255).map { UInt8($0) },
                metadata: ["zeta": "last", "Alpha": "first \"q\"", "batch-7": "x/y\\z", "_": "\u{1F}", "B.2": ""],
                category: "device",
                alternativeNames: ["dns:a.example", "uri:https://x.example/p?q=\"1\"", "email:ü@example.com"]
            ),
            CertificateRecord(
                issuer: "r",
                serial: [0x00],
                subject: "",
                notBefore: 0,
                notAfter: 86_399 * 1_000_000_000,
                der: [],
                metadata: [:]
            ),
        ]
        for record in records {
            for chain in [nil, [], [[UInt8](repeating: 0x30, count: 70), [0x01, 0x02]]] as [[[UInt8]]?] {
                let view = CertificateAnswer(record, chain: chain)
                let encoder = JSONEncoder()
                encoder.dateEncodingStrategy = .iso8601
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                let expected = try encoder.encode(view.model)
                #expect(
                    String(decoding: view.json, as: UTF8.self) == String(decoding: expected, as: UTF8.self),
                    "chain \(String(describing: chain?.count))"
                )
                // And it is JSON a strict parser reads back to the same values.
                let parsed = try #require(try JSONSerialization.jsonObject(with: Data(view.json)) as? [String: Any])
                #expect(parsed["subject"] as? String == record.subject)
                #expect(parsed["metadata"] as? [String: String] == record.metadata)
            }
        }
    }

    @Test func certificatesOfEveryLengthAreWrittenAsJSONEncoderWritesTheirPEM() throws {
        var generator = SystemRandomNumberGenerator()
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Lengths around every padding case and line break (48 bytes a line), and a certificate's size.
        for length in Array(0...150) + [480, 481, 482, 1400] {
            let der = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let record = CertificateRecord(
                issuer: "c",
                serial: [1],
                subject: "CN=x",
                notBefore: 0,
                notAfter: 0,
                der: der,
                metadata: [:]
            )
            let view = CertificateAnswer(record, chain: [der, Array(der.reversed())])
            #expect(
                String(decoding: view.json, as: UTF8.self)
                    == String(decoding: try encoder.encode(view.model), as: UTF8.self),
                "\(length) bytes"
            )
        }
    }
}
