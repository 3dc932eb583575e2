/// One SMTP reply: its code and its text lines (RFC 5321 §4.2: `250-first`, …, `250 last`).
public struct SMTPReply: Sendable, Hashable {
    public var code: Int
    /// The text after the code on each line.
    public var lines: [String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }
}

/// Turns received lines into replies: continuation lines (`code-text`) are gathered until the last
/// one (`code text` or a bare `code`).
struct SMTPReplyParser {
    private var partial: [UInt8] = []
    private var pending: [String] = []

    enum Failure: Error { case malformed(String), tooLong }

    /// Feeds received bytes; returns the replies they completed.
    mutating func feed(_ bytes: some Sequence<UInt8>) throws(Failure) -> [SMTPReply] {
        var replies: [SMTPReply] = []
        for byte in bytes {
            guard byte == UInt8(ascii: "\n") else {
                partial.append(byte)
                // RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets.
                guard partial.count <= 4096 else { throw .tooLong }
                continue
            }
            if partial.last == UInt8(ascii: "\r") { partial.removeLast() }
            let line = String(decoding: partial, as: UTF8.self)
            partial = []
            let digits = line.prefix(3)
            guard digits.count == 3, digits.allSatisfy(\.isNumber), let code = Int(digits) else {
                throw .malformed(line)
            }
            let separator = line.dropFirst(3).first
            pending.append(String(line.dropFirst(4)))
            if separator == "-" { continue }
            guard separator == nil || separator == " " else { throw .malformed(line) }
            replies.append(SMTPReply(code: code, lines: pending))
            pending = []
        }
        return replies
    }
}
