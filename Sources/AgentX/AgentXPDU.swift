/// AgentX PDUs (RFC 2741 section 6) as Custos' subagent sends and receives them: the 20-byte header,
/// object identifiers with their prefix compression, octet strings padded to four bytes, variable
/// bindings and search ranges. Received PDUs are read in the byte order their header's
/// NETWORK_BYTE_ORDER flag states; PDUs sent are in network byte order.
public struct AgentXHeader: Sendable, Hashable {
    public enum PDUType: UInt8, Sendable {
        case open = 1, close, register, unregister, get, getNext, getBulk, testSet, commitSet, undoSet
        case cleanupSet, notify, ping, indexAllocate, indexDeallocate, addAgentCaps, removeAgentCaps, response
    }

    public static let length = 20
    static let instanceRegistration: UInt8 = 0x01
    static let nonDefaultContext: UInt8 = 0x08
    static let networkByteOrder: UInt8 = 0x10

    public var type: PDUType
    public var flags: UInt8
    public var sessionID: UInt32
    public var transactionID: UInt32
    public var packetID: UInt32
    public var payloadLength: UInt32

    public var bigEndian: Bool { flags & Self.networkByteOrder != 0 }
    public var hasContext: Bool { flags & Self.nonDefaultContext != 0 }

    /// Reads a header; nil when `bytes` is shorter than one. Throws for a version other than 1 or an
    /// unknown type.
    public static func read(_ bytes: some Collection<UInt8>) throws(AgentXError) -> AgentXHeader? {
        guard bytes.count >= length else { return nil }
        let header = Array(bytes.prefix(length))
        guard header[0] == 1 else { throw AgentXError("AgentX version \(header[0]), not 1") }
        guard let type = PDUType(rawValue: header[1]) else { throw AgentXError("unknown AgentX PDU type \(header[1])") }
        var reader = AgentXReader(header, bigEndian: header[2] & networkByteOrder != 0)
        reader.offset = 4
        return AgentXHeader(
            type: type,
            flags: header[2],
            sessionID: try reader.u32(),
            transactionID: try reader.u32(),
            packetID: try reader.u32(),
            payloadLength: try reader.u32()
        )
    }
}

/// A malformed PDU, or a master agent that refused something.
public struct AgentXError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Writes a PDU in network byte order.
public struct AgentXWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { bytes += [UInt8(value >> 8), UInt8(value & 0xFF)] }
    mutating func u32(_ value: UInt32) {
        bytes += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
    mutating func u64(_ value: UInt64) {
        u32(UInt32(value >> 32))
        u32(UInt32(value & 0xFFFF_FFFF))
    }

    /// An object identifier (section 5.1), `1.3.6.1.<n>.…` with 0 < n < 256 compressed to its prefix.
    mutating func oid(_ oid: OID, include: Bool = false) {
        var subids = oid[...]
        var prefix: UInt8 = 0
        if oid.count > 4, oid[0] == 1, oid[1] == 3, oid[2] == 6, oid[3] == 1, (1...255).contains(oid[4]) {
            prefix = UInt8(oid[4])
            subids = oid[5...]
        }
        u8(UInt8(subids.count))
        u8(prefix)
        u8(include ? 1 : 0)
        u8(0)
        for subid in subids { u32(subid) }
    }

    /// An octet string (section 5.3): its length, the octets, zero padding to a multiple of four.
    mutating func octets(_ value: [UInt8]) {
        u32(UInt32(value.count))
        bytes += value
        bytes += [UInt8](repeating: 0, count: (4 - value.count % 4) % 4)
    }

    mutating func varBind(_ varBind: VarBind) {
        u16(varBind.value.tag)
        u16(0)
        oid(varBind.name)
        switch varBind.value {
        case .integer(let value): u32(UInt32(bitPattern: value))
        case .octets(let value), .ipAddress(let value), .opaque(let value): octets(value)
        case .objectIdentifier(let value): oid(value)
        case .counter32(let value), .gauge32(let value), .timeTicks(let value): u32(value)
        case .counter64(let value): u64(value)
        case .null, .noSuchObject, .noSuchInstance, .endOfMibView: break
        }
    }

    /// The PDU: header (with the payload's length) and payload.
    static func pdu(
        _ type: AgentXHeader.PDUType,
        sessionID: UInt32,
        transactionID: UInt32,
        packetID: UInt32,
        flags: UInt8 = 0,
        payload: (inout AgentXWriter) -> Void
    ) -> [UInt8] {
        var body = AgentXWriter()
        payload(&body)
        var header = AgentXWriter()
        header.u8(1)
        header.u8(type.rawValue)
        header.u8(flags | AgentXHeader.networkByteOrder)
        header.u8(0)
        header.u32(sessionID)
        header.u32(transactionID)
        header.u32(packetID)
        header.u32(UInt32(body.bytes.count))
        return header.bytes + body.bytes
    }
}

/// Reads a PDU's payload in the byte order its header names.
public struct AgentXReader {
    let bytes: [UInt8]
    let bigEndian: Bool
    var offset = 0

    public init(_ bytes: [UInt8], bigEndian: Bool) {
        self.bytes = bytes
        self.bigEndian = bigEndian
    }

    var atEnd: Bool { offset >= bytes.count }

    private mutating func take(_ count: Int) throws(AgentXError) -> ArraySlice<UInt8> {
        guard count >= 0, bytes.count - offset >= count else { throw AgentXError("the PDU ends early") }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    mutating func u8() throws(AgentXError) -> UInt8 { try take(1).first! }

    mutating func u16() throws(AgentXError) -> UInt16 {
        let part = try take(2)
        let (a, b) = (UInt16(part[part.startIndex]), UInt16(part[part.startIndex + 1]))
        return bigEndian ? a << 8 | b : b << 8 | a
    }

    mutating func u32() throws(AgentXError) -> UInt32 {
        let part = Array(try take(4)).map(UInt32.init)
        return bigEndian
            ? part[0] << 24 | part[1] << 16 | part[2] << 8 | part[3]
            : part[3] << 24 | part[2] << 16 | part[1] << 8 | part[0]
    }

    mutating func u64() throws(AgentXError) -> UInt64 {
        let (first, second) = (UInt64(try u32()), UInt64(try u32()))
        return bigEndian ? first << 32 | second : second << 32 | first
    }

    /// An object identifier and its include flag.
    mutating func oid() throws(AgentXError) -> (oid: OID, include: Bool) {
        let count = Int(try u8())
        let prefix = try u8()
        let include = try u8() != 0
        _ = try u8()
        guard count <= 128 else { throw AgentXError("an object identifier of \(count) sub-identifiers") }
        var oid: OID = prefix == 0 ? [] : [1, 3, 6, 1, UInt32(prefix)]
        for _ in 0..<count { oid.append(try u32()) }
        return (oid, include)
    }

    mutating func octets() throws(AgentXError) -> [UInt8] {
        let length = Int(try u32())
        guard length <= 65_536 else { throw AgentXError("an octet string of \(length) bytes") }
        let value = Array(try take(length))
        _ = try take((4 - length % 4) % 4)
        return value
    }

    mutating func varBind() throws(AgentXError) -> VarBind {
        let tag = try u16()
        _ = try u16()
        let name = try oid().oid
        let value: AgentXValue
        switch tag {
        case 2: value = .integer(Int32(bitPattern: try u32()))
        case 4: value = .octets(try octets())
        case 5: value = .null
        case 6: value = .objectIdentifier(try oid().oid)
        case 64: value = .ipAddress(try octets())
        case 65: value = .counter32(try u32())
        case 66: value = .gauge32(try u32())
        case 67: value = .timeTicks(try u32())
        case 68: value = .opaque(try octets())
        case 70: value = .counter64(try u64())
        case 128: value = .noSuchObject
        case 129: value = .noSuchInstance
        case 130: value = .endOfMibView
        default: throw AgentXError("unknown VarBind type \(tag)")
        }
        return VarBind(name, value)
    }
}

/// A search range of a Get, GetNext or GetBulk (section 5.2): from `start` (itself included when
/// `include`) up to `end` (excluded; unbounded when empty).
public struct SearchRange: Sendable, Hashable {
    public var start: OID
    public var include: Bool
    public var end: OID
}

/// What the master agent asks of the subagent, read from a PDU's payload.
public enum AgentXRequest: Sendable, Hashable {
    case get([SearchRange])
    case getNext([SearchRange])
    case getBulk(nonRepeaters: Int, maxRepetitions: Int, [SearchRange])
    case testSet([VarBind])
    case commitSet, undoSet, cleanupSet
    case close(reason: UInt8)
    case response(sysUpTime: UInt32, error: UInt16, index: UInt16, [VarBind])

    /// Reads the payload of `header`'s PDU; nil for a type a master agent does not send a subagent.
    public static func read(_ header: AgentXHeader, payload: [UInt8]) throws(AgentXError) -> AgentXRequest? {
        var reader = AgentXReader(payload, bigEndian: header.bigEndian)
        func ranges() throws(AgentXError) -> [SearchRange] {
            var ranges: [SearchRange] = []
            while !reader.atEnd {
                let start = try reader.oid()
                let end = try reader.oid()
                ranges.append(SearchRange(start: start.oid, include: start.include, end: end.oid))
            }
            return ranges
        }
        func skipContext() throws(AgentXError) { if header.hasContext { _ = try reader.octets() } }
        switch header.type {
        case .get:
            try skipContext()
            return .get(try ranges())
        case .getNext:
            try skipContext()
            return .getNext(try ranges())
        case .getBulk:
            try skipContext()
            let nonRepeaters = Int(try reader.u16())
            let maxRepetitions = Int(try reader.u16())
            return .getBulk(nonRepeaters: nonRepeaters, maxRepetitions: maxRepetitions, try ranges())
        case .testSet:
            try skipContext()
            var varBinds: [VarBind] = []
            while !reader.atEnd { varBinds.append(try reader.varBind()) }
            return .testSet(varBinds)
        case .commitSet: return .commitSet
        case .undoSet: return .undoSet
        case .cleanupSet: return .cleanupSet
        case .close: return .close(reason: try reader.u8())
        case .response:
            let upTime = try reader.u32()
            let error = try reader.u16()
            let index = try reader.u16()
            var varBinds: [VarBind] = []
            while !reader.atEnd { varBinds.append(try reader.varBind()) }
            return .response(sysUpTime: upTime, error: error, index: index, varBinds)
        default: return nil
        }
    }
}
