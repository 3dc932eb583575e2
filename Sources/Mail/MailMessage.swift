public import Foundation

/// An e-mail as RFC 5322 and MIME (RFC 2045, 2046) define it: a text body and optional attachments,
/// each part base64-encoded so that any line length and character set arrive unchanged.
public struct MailMessage: Sendable, Hashable {
    public struct Attachment: Sendable, Hashable {
        public var filename: String
        /// `text/csv`, …
        public var contentType: String
        public var data: [UInt8]

        public init(filename: String, contentType: String, data: [UInt8]) {
            self.filename = filename
            self.contentType = contentType
            self.data = data
        }
    }

    public var from: String
    public var to: [String]
    public var subject: String
    public var text: String
    public var attachments: [Attachment]
    /// Goes into `Message-ID` (`<id@host>`); a receiver that sees it twice knows it is the same mail.
    public var messageID: String
    public var date: Date

    public init(
        from: String,
        to: [String],
        subject: String,
        text: String,
        attachments: [Attachment] = [],
        messageID: String,
        date: Date = Date()
    ) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.attachments = attachments
        self.messageID = messageID
        self.date = date
    }

    /// Whether `address` is a plain `local@domain` address (no display name, no spaces, no line
    /// breaks, nothing that could end an SMTP command or a header early).
    public static func isValidAddress(_ address: String) -> Bool {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), address.utf8.count <= 254 else {
            return false
        }
        let forbidden = Set("<>()[]\\,;:\" \t\r\n")
        return address.allSatisfy { $0.isASCII && !forbidden.contains($0) && !$0.isWhitespace }
            && !parts[1].hasPrefix(".") && !parts[1].hasSuffix(".")
    }

    /// The message in CRLF lines, ready for SMTP's DATA (before dot-stuffing).
    public func rendered() -> [UInt8] {
        var lines: [String] = []
        lines.append("From: \(from)")
        lines.append("To: \(to.joined(separator: ", "))")
        lines.append("Subject: \(Self.encodedWord(subject))")
        lines.append("Date: \(Self.rfc5322Date(date))")
        lines.append("Message-ID: <\(messageID)>")
        lines.append("MIME-Version: 1.0")
        // The boundary never occurs in a part: "_" is not in base64's alphabet.
        let boundary = "=_custos_" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        lines.append("Content-Type: multipart/mixed;\r\n boundary=\"\(boundary)\"")
        lines.append("")
        lines.append("--\(boundary)")
        lines.append("Content-Type: text/plain; charset=utf-8")
        lines.append("Content-Transfer-Encoding: base64")
        lines.append("")
        lines += Self.base64Lines(Array(text.utf8))
        for attachment in attachments {
            let name = attachment.filename.filter { $0.isASCII && $0 != "\"" && $0 != "\\" && !$0.isNewline }
            lines.append("--\(boundary)")
            lines.append("Content-Type: \(attachment.contentType); name=\"\(name)\"")
            lines.append("Content-Disposition: attachment; filename=\"\(name)\"")
            lines.append("Content-Transfer-Encoding: base64")
            lines.append("")
            lines += Self.base64Lines(attachment.data)
        }
        lines.append("--\(boundary)--")
        return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    /// Base64 in lines of 76 characters (RFC 2045 §6.8).
    static func base64Lines(_ data: [UInt8]) -> [String] {
        let encoded = Data(data).base64EncodedString()
        var lines: [String] = []
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let end = encoded.index(index, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            lines.append(String(encoded[index..<end]))
            index = end
        }
        return lines
    }

    /// A header value as it is when printable ASCII and short, else as RFC 2047 encoded words (UTF-8,
    /// base64) of at most 75 characters each, folded onto continuation lines; line breaks never reach
    /// the header.
    static func encodedWord(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        if flat.allSatisfy({ $0.isASCII }) && !flat.contains("=?") && flat.utf8.count <= 60 { return flat }
        // 42 bytes make 56 base64 characters, 68 with "=?utf-8?B?" and "?=" (77 after "Subject: "); words end
        // between characters.
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in flat {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 42 {
                words.append("=?utf-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?utf-8?B?\(Data(chunk).base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    /// `Fri, 04 Dec 2026 10:00:00 +0000` (RFC 5322 §3.3).
    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}
