/// DNS messages (RFC 1035 section 4) as far as a challenge validator needs them: one question out
/// (A, AAAA, TXT or CAA, recursion desired), and the answer section back, with name compression and
/// CNAME chains followed within the answer.
public enum DNSMessage {
    /// Record types asked for.
    public enum RecordType: UInt16, Sendable, Hashable {
        case a = 1
        case cname = 5
        case txt = 16
        case aaaa = 28
        case caa = 257
    }

    /// One resource record of the answer section.
    public struct Record: Sendable, Hashable {
        /// Lower-case, without the trailing dot.
        public var name: String
        public var type: UInt16
        public var data: [UInt8]
        /// For CNAME: the target; for TXT: the strings joined (RFC 7208 section 3.3 style).
        public var text: String?
    }

    /// A parsed response.
    public struct Response: Sendable {
        public var id: UInt16
        /// RCODE (0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, …).
        public var responseCode: UInt8
        /// TC: the answer did not fit a UDP datagram; ask again over TCP.
        public var truncated: Bool
        public var answers: [Record]

        /// The records of `type` for `name`, following CNAMEs of the answer (at most 8).
        public func records(_ type: RecordType, for name: String) -> [Record] {
            var owner = DNSMessage.normalized(name)
            for _ in 0..<8 {
                let found = answers.filter { $0.name == owner && $0.type == type.rawValue }
                if !found.isEmpty { return found }
                guard let alias = answers.first(where: { $0.name == owner && $0.type == RecordType.cname.rawValue }),
                    let target = alias.text
                else { return [] }
                owner = target
            }
            return []
        }
    }

    public struct FormatError: Error, Sendable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Lower case without a trailing dot.
    public static func normalized(_ name: String) -> String {
        var text = name.lowercased()
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// A query for `name` and `type` with recursion desired (and an EDNS(0) OPT record offering
    /// 1232-byte UDP answers, as resolvers recommend since DNS flag day 2020).
    public static func query(id: UInt16, name: String, type: RecordType) throws(FormatError) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1]
        bytes += try encode(name: name)
        bytes += [UInt8(type.rawValue >> 8), UInt8(type.rawValue & 0xFF), 0, 1]
        // OPT: root name, type 41, UDP size 1232, extended RCODE and flags 0, no options.
        bytes += [0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0]
        return bytes
    }

    static func encode(name: String) throws(FormatError) -> [UInt8] {
        let text = normalized(name)
        var bytes: [UInt8] = []
        if !text.isEmpty {
            for label in text.split(separator: ".", omittingEmptySubsequences: false) {
                let utf8 = Array(label.utf8)
                guard (1...63).contains(utf8.count) else {
                    throw FormatError("label \"\(label)\" is empty or too long")
                }
                bytes.append(UInt8(utf8.count))
                bytes += utf8
            }
        }
        bytes.append(0)
        guard bytes.count <= 255 else { throw FormatError("the name is longer than 255 bytes") }
        return bytes
    }

    /// Reads a response.
    public static func response(_ bytes: [UInt8]) throws(FormatError) -> Response {
        guard bytes.count >= 12 else { throw FormatError("a DNS message has a 12-byte header") }
        let id = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        guard bytes[2] & 0x80 != 0 else { throw FormatError("the message is a query, not a response") }
        let questions = Int(bytes[4]) << 8 | Int(bytes[5])
        let answerCount = Int(bytes[6]) << 8 | Int(bytes[7])
        var offset = 12
        for _ in 0..<questions {
            _ = try readName(bytes, at: &offset)
            offset += 4
        }
        var answers: [Record] = []
        for _ in 0..<answerCount {
            let name = try readName(bytes, at: &offset)
            guard offset + 10 <= bytes.count else { throw FormatError("a record is cut short") }
            let type = UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
            let length = Int(bytes[offset + 8]) << 8 | Int(bytes[offset + 9])
            offset += 10
            guard offset + length <= bytes.count else { throw FormatError("a record's data is cut short") }
            let data = Array(bytes[offset..<offset + length])
            var text: String?
            switch type {
            case RecordType.cname.rawValue:
                var at = offset
                text = try readName(bytes, at: &at)
            case RecordType.txt.rawValue:
                var strings: [UInt8] = []
                var at = 0
                while at < data.count {
                    let count = Int(data[at])
                    guard at + 1 + count <= data.count else { throw FormatError("a TXT string is cut short") }
                    strings += data[at + 1..<at + 1 + count]
                    at += 1 + count
                }
                text = String(decoding: strings, as: UTF8.self)
            default: break
            }
            answers.append(Record(name: name, type: type, data: data, text: text))
            offset += length
        }
        return Response(id: id, responseCode: bytes[3] & 0x0F, truncated: bytes[2] & 0x02 != 0, answers: answers)
    }

    /// A possibly compressed name (RFC 1035 section 4.1.4) at `offset`, which moves past it.
    static func readName(_ bytes: [UInt8], at offset: inout Int) throws(FormatError) -> String {
        var labels: [String] = []
        var at = offset
        var jumped = false
        var jumps = 0
        while true {
            guard at < bytes.count else { throw FormatError("a name is cut short") }
            let length = Int(bytes[at])
            if length & 0xC0 == 0xC0 {
                guard at + 1 < bytes.count else { throw FormatError("a name pointer is cut short") }
                let target = (length & 0x3F) << 8 | Int(bytes[at + 1])
                if !jumped { offset = at + 2 }
                jumped = true
                jumps += 1
                guard jumps <= 32, target < at else { throw FormatError("name pointers loop") }
                at = target
                continue
            }
            guard length & 0xC0 == 0 else { throw FormatError("a label has an unknown type") }
            at += 1
            if length == 0 { break }
            guard at + length <= bytes.count else { throw FormatError("a label is cut short") }
            labels.append(String(decoding: bytes[at..<at + length], as: UTF8.self).lowercased())
            at += length
        }
        if !jumped { offset = at }
        return labels.joined(separator: ".")
    }
}
