import Codecs
import Foundation
import SwiftASN1
import Testing

/// CSRs and chains arrive as PEM: our reader agrees with swift-certificates' `PEMDocument` on well-formed blocks
/// and names what is wrong with the rest.
@Suite struct PEMTests {
    @Test func readsWhatPEMDocumentWritesForEveryLength() throws {
        for length in [1, 2, 3, 47, 48, 49, 300, 1_000] {
            let der = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ length) }
            let text = PEMDocument(type: "CERTIFICATE REQUEST", derBytes: der).pemString
            let variants = [
                text, "\n  \(text)\r\n\n", text.replacingOccurrences(of: "\n", with: "\r\n"),
                "Certificate Request:\n    Data: ...\n\(text)\n",
            ]
            for variant in variants {
                let block = try PEM.block(variant)
                #expect(block.label == "CERTIFICATE REQUEST" && block.der == der, "length \(length)")
                #expect(try PEMDocument(pemString: variant).derBytes == block.der)
            }
        }
        // Lines of other widths (RFC 7468 parsers must accept them) and an unusual label.
        let der = Array(repeating: UInt8(0xA5), count: 90)
        let base64 = Data(der).base64EncodedString()
        let wrapped = stride(from: 0, to: base64.count, by: 76).map { offset in
            String(base64.dropFirst(offset).prefix(76))
        }
        let block = try PEM.block(
            "-----BEGIN NEW CERTIFICATE REQUEST-----\n\(wrapped.joined(separator: "\n"))\n-----END NEW CERTIFICATE REQUEST-----"
        )
        #expect(block.label == "NEW CERTIFICATE REQUEST" && block.der == der)
    }

    @Test func refusesWhatIsNotOneBlock() {
        let good = PEMDocument(type: "CERTIFICATE REQUEST", derBytes: Array(1...60)).pemString
        let lines = good.split(separator: "\n").map(String.init)
        let cases: [(String, String, PEM.Failure)] = [
            ("empty", "", .noBeginLine),
            ("plain base64", lines[1], .noBeginLine),
            ("BEGIN inside a line", "hello" + good, .noBeginLine),
            ("truncated", lines.dropLast().joined(separator: "\n"), .noEndLine),
            ("cut in the END line", String(good.dropLast(8)), .noEndLine),
            (
                "other END label", good.replacingOccurrences(of: "END CERTIFICATE REQUEST", with: "END CERTIFICATE"),
                .labelsDiffer
            ),
            ("two blocks", good + "\n" + good, .textAfterEnd),
            ("bad character", good.replacingOccurrences(of: lines[1], with: "*" + lines[1].dropFirst()), .badBase64),
            ("bad length", good.replacingOccurrences(of: lines[1], with: String(lines[1].dropFirst())), .badBase64),
            ("no body", "-----BEGIN X-----\n-----END X-----", .badBase64),
        ]
        for (name, text, expected) in cases {
            #expect(throws: expected, "\(name)") { try PEM.block(text) }
        }
    }

    @Test func writesWhatPEMDocumentWrites() {
        // (Empty DER differs: an empty base64 line here, none there; no PEM of ours is empty.)
        for length in [1, 2, 3, 47, 48, 49, 96, 500] {
            let der = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            #expect(PEM.encode(der, label: "PUBLIC KEY") == PEMDocument(type: "PUBLIC KEY", derBytes: der).pemString)
        }
    }

    @Test func readsEveryBlockOfAListAsPEMDocumentDoes() throws {
        func document(_ index: Int) -> String {
            let der = (0...(40 * index + 3)).map { UInt8(truncatingIfNeeded: $0) }
            return PEMDocument(type: index % 2 == 0 ? "CERTIFICATE" : "PKCS7", derBytes: der).pemString
        }
        for count in 1...4 {
            let blocks: [String] = (0..<count).map(document)
            let text = "Subject: explanatory text\n" + blocks.joined(separator: "\nbetween\r\n") + "\n"
            let ours = try PEM.blocks(text)
            let theirs = try PEMDocument.parseMultiple(pemString: text)
            #expect(ours.map { $0.label } == theirs.map { $0.discriminator })
            #expect(ours.map { $0.der } == theirs.map { Array($0.derBytes) })
        }
        #expect(try PEM.blocks("no PEM here\n").isEmpty)
    }

    @Test func aListCutOffAnywhereIsAnErrorNotAShorterList() {
        let first = PEMDocument(type: "CERTIFICATE", derBytes: Array(1...80)).pemString
        let second = PEMDocument(type: "CERTIFICATE", derBytes: Array(81...200)).pemString
        let whole = Array((first + "\n" + second + "\n").utf8)
        let secondBegins = first.utf8.count + 1
        // Any cut that leaves part of the second block's BEGIN line or more, but not its END line, fails.
        for length in (secondBegins + 11)..<(whole.count - 1) {
            let text = String(decoding: whole.prefix(length), as: UTF8.self)
            #expect(throws: PEM.Failure.self, "cut at \(length)") { try PEM.blocks(text) }
        }
        #expect(throws: PEM.Failure.endWithoutBegin) { try PEM.blocks(second + "\n-----END CERTIFICATE-----\n") }
        #expect(throws: PEM.Failure.noEndLine) {
            try PEM.blocks(first.replacingOccurrences(of: "-----END CERTIFICATE-----", with: "") + "\n" + second)
        }
    }
}
