import Foundation
import SwiftASN1
import Testing

@testable import Server

/// CSRs arrive as PEM: our reader agrees with swift-certificates' `PEMDocument` on well-formed blocks
/// and names what is wrong with the rest.
@Suite struct PEMBlockTests {
    @Test func readsWhatPEMDocumentWritesForEveryLength() throws {
        for length in [1, 2, 3, 47, 48, 49, 300, 1_000] {
            let der = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ length) }
            let text = PEMDocument(type: "CERTIFICATE REQUEST", derBytes: der).pemString
            let variants = [
                text, "\n  \(text)\r\n\n", text.replacingOccurrences(of: "\n", with: "\r\n"),
                "Certificate Request:\n    Data: ...\n\(text)\n",
            ]
            for variant in variants {
                let block = try PEMBlock(variant)
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
        let block = try PEMBlock(
            "-----BEGIN NEW CERTIFICATE REQUEST-----\n\(wrapped.joined(separator: "\n"))\n-----END NEW CERTIFICATE REQUEST-----"
        )
        #expect(block.label == "NEW CERTIFICATE REQUEST" && block.der == der)
    }

    @Test func refusesWhatIsNotOneBlock() {
        let good = PEMDocument(type: "CERTIFICATE REQUEST", derBytes: Array(1...60)).pemString
        let lines = good.split(separator: "\n").map(String.init)
        let cases: [(String, String, PEMBlock.Failure)] = [
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
            #expect(throws: expected, "\(name)") { try PEMBlock(text) }
        }
    }
}
