/// PEM text (RFC 7468): DER bytes in base64 between `-----BEGIN <label>-----` and `-----END <label>-----`
/// lines. Written and read here only, with our strict byte-level `Base64`: swift-asn1's `PEMDocument`
/// decodes with Foundation, which bridges through NSString on Linux, and skips a block that has lost
/// its END line instead of failing.
public enum PEM {
    /// One PEM block: its label ("CERTIFICATE REQUEST" for a CSR) and the DER bytes its base64 encodes.
    public struct Block: Sendable, Equatable {
        public let label: String
        public let der: [UInt8]

        public init(label: String, der: [UInt8]) {
            self.label = label
            self.der = der
        }
    }

    /// Why a text is not the PEM that was asked for.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case noBeginLine, noEndLine, labelsDiffer, textAfterEnd, badBase64, endWithoutBegin

        public var description: String {
            switch self {
            case .noBeginLine: "the text has no -----BEGIN <label>----- line"
            case .noEndLine: "the block has no -----END <label>----- line (truncated?)"
            case .labelsDiffer: "the END line's label differs from the BEGIN line's"
            case .textAfterEnd: "there is text after the END line (only one block is accepted)"
            case .badBase64: "the text between the lines is not valid base64"
            case .endWithoutBegin: "an -----END <label>----- line has no BEGIN line before it"
            }
        }
    }

    // MARK: Writing

    /// The PEM text of `der`: base64 in 64-character lines between the labels, without a final line feed
    /// (what `PEMDocument.pemString` writes).
    public static func encode(_ der: [UInt8], label: String = "CERTIFICATE") -> String {
        var text: [UInt8] = []
        append(der, label: label, to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// Appends the PEM text of `der` to `output`, with `lineBreak` between its lines: a line feed, or
    /// for a writer of JSON string literals its escaped form, so the text goes straight into a string.
    public static func append(_ der: [UInt8], label: String, to output: inout [UInt8], lineBreak: [UInt8] = [0x0A]) {
        output.append(contentsOf: "-----BEGIN \(label)-----".utf8)
        output.append(contentsOf: lineBreak)
        Base64.encode(der, into: &output, separator: lineBreak)
        output.append(contentsOf: lineBreak)
        output.append(contentsOf: "-----END \(label)-----".utf8)
    }

    // MARK: Reading

    /// Exactly one block, with whitespace around it and inside the base64, and explanatory text before
    /// it (RFC 7468 section 2; `openssl req -text` writes some). Every issuance request carries its CSR
    /// this way.
    public static func block(_ text: String) throws(Failure) -> Block {
        let bytes = Array(text.utf8)
        var start = 0
        var end = bytes.count
        while start < end, isWhitespace(bytes[start]) { start += 1 }
        while end > start, isWhitespace(bytes[end - 1]) { end -= 1 }
        guard let (block, blockEnd) = try next(in: bytes, from: start, to: end) else { throw .noBeginLine }
        guard blockEnd == end else { throw .textAfterEnd }
        return block
    }

    /// Every block in `text`, in order, with any text between them. A BEGIN line without its END line or
    /// an END line without its BEGIN line is an error, so that a cut-off file is never read as fewer
    /// blocks. No block at all is an empty answer.
    public static func blocks(_ text: String) throws(Failure) -> [Block] {
        let bytes = Array(text.utf8)
        var blocks: [Block] = []
        var position = 0
        while let (block, end) = try next(in: bytes, from: position, to: bytes.count) {
            blocks.append(block)
            position = end
        }
        guard find(endMarker, in: bytes, from: position, to: bytes.count) == nil else { throw .endWithoutBegin }
        return blocks
    }

    // MARK: Scanning

    private static let dashes = Array("-----".utf8)
    private static let beginMarker = Array("-----BEGIN ".utf8)
    private static let endMarker = Array("-----END ".utf8)

    /// The first block in `bytes[from..<to]` and the index just past its END line, or nil when there is
    /// no BEGIN marker. Text before the BEGIN line must not hold an END line.
    private static func next(in bytes: [UInt8], from: Int, to: Int) throws(Failure) -> (Block, Int)? {
        guard let beginLine = find(beginMarker, in: bytes, from: from, to: to) else { return nil }
        guard find(endMarker, in: bytes, from: from, to: beginLine) == nil else { throw .endWithoutBegin }
        guard beginLine == from || bytes[beginLine - 1] == 0x0A,
            let labelEnd = find(dashes, in: bytes, from: beginLine + beginMarker.count, to: to)
        else { throw .noBeginLine }
        let label = bytes[(beginLine + beginMarker.count)..<labelEnd]
        guard !label.contains(where: { $0 == 0x0A || $0 == 0x0D }) else { throw .noBeginLine }
        let bodyStart = labelEnd + dashes.count
        guard let endLine = find(endMarker, in: bytes, from: bodyStart, to: to) else { throw .noEndLine }
        // A second BEGIN before this block's END: this block lost its END line.
        guard find(beginMarker, in: bytes, from: bodyStart, to: endLine) == nil else { throw .noEndLine }
        let endLabelStart = endLine + endMarker.count
        guard let endLabelEnd = find(dashes, in: bytes, from: endLabelStart, to: to) else { throw .noEndLine }
        guard bytes[endLabelStart..<endLabelEnd].elementsEqual(label) else { throw .labelsDiffer }
        let base64 = bytes[bodyStart..<endLine].filter { !isWhitespace($0) }
        guard !base64.isEmpty, let der = Base64.decode(base64) else { throw .badBase64 }
        return (Block(label: String(decoding: label, as: UTF8.self), der: der), endLabelEnd + dashes.count)
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
