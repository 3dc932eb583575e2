import CA

/// One PEM block (RFC 7468 section 2): `-----BEGIN <label>-----`, base64 over any number of lines,
/// `-----END <label>-----`, with whitespace allowed around the block and inside the base64, and
/// explanatory text before it.
///
/// Every issuance request carries its CSR this way. swift-certificates' `PEMDocument` decodes with
/// Foundation, which bridges through NSString on Linux; this reads the bytes with our strict `Base64`.
struct PEMBlock {
    /// The label, "CERTIFICATE REQUEST" for a CSR.
    let label: String
    /// The DER bytes the base64 encodes.
    let der: [UInt8]

    /// Why a text is not one PEM block.
    enum Failure: Error, CustomStringConvertible {
        case noBeginLine, noEndLine, labelsDiffer, textAfterEnd, badBase64

        var description: String {
            switch self {
            case .noBeginLine: "the text has no -----BEGIN <label>----- line"
            case .noEndLine: "the block has no -----END <label>----- line (truncated?)"
            case .labelsDiffer: "the END line's label differs from the BEGIN line's"
            case .textAfterEnd: "there is text after the END line (only one block is accepted)"
            case .badBase64: "the text between the lines is not valid base64"
            }
        }
    }

    init(_ text: String) throws(Failure) {
        let bytes = Array(text.utf8)
        var start = 0
        var end = bytes.count
        while start < end, Self.isWhitespace(bytes[start]) { start += 1 }
        while end > start, Self.isWhitespace(bytes[end - 1]) { end -= 1 }
        let dashes = Array("-----".utf8)
        let begin = Array("-----BEGIN ".utf8)
        // Text before the block is allowed (RFC 7468 section 2; `openssl req -text` writes some).
        guard let beginLine = Self.find(begin, in: bytes, from: start, to: end),
            beginLine == start || bytes[beginLine - 1] == 0x0A,
            let labelEnd = Self.find(dashes, in: bytes, from: beginLine + begin.count, to: end)
        else { throw .noBeginLine }
        let label = bytes[(beginLine + begin.count)..<labelEnd]
        guard !label.contains(where: { $0 == 0x0A || $0 == 0x0D }) else { throw .noBeginLine }
        let bodyStart = labelEnd + dashes.count
        let endMarker = Array("-----END ".utf8)
        guard let endLine = Self.find(endMarker, in: bytes, from: bodyStart, to: end) else { throw .noEndLine }
        let endLabelStart = endLine + endMarker.count
        guard let endLabelEnd = Self.find(dashes, in: bytes, from: endLabelStart, to: end) else { throw .noEndLine }
        guard bytes[endLabelStart..<endLabelEnd].elementsEqual(label) else { throw .labelsDiffer }
        guard endLabelEnd + dashes.count == end else { throw .textAfterEnd }
        let base64 = bytes[bodyStart..<endLine].filter { !Self.isWhitespace($0) }
        guard !base64.isEmpty, let der = Base64.decode(base64) else { throw .badBase64 }
        self.label = String(decoding: label, as: UTF8.self)
        self.der = der
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// The first index of `needle` in `bytes[from..<to]`.
    private static func find(_ needle: [UInt8], in bytes: [UInt8], from: Int, to: Int) -> Int? {
        guard to - from >= needle.count else { return nil }
        var index = from
        while index + needle.count <= to {
            if bytes[index] == needle[0], bytes[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
