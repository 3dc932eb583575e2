import Testing

@testable import AgentX

/// The AgentX codec and the MIB view's searches (snmpd drives both for real in `SNMPTests`).
@Suite struct AgentXTests {
    let root: OID = [1, 3, 6, 1, 4, 1, 32473, 1]

    var view: MIBView {
        MIBView([
            VarBind(root + [2, 1, 0], .gauge32(2)), VarBind(root + [1, 1, 0], .integer(1)),
            VarBind(root + [1, 3, 0], .string("Custos")), VarBind(root + [2, 4, 0], .counter64(1 << 40)),
        ])
    }

    @Test func getGetNextAndGetBulkWalkTheViewInOrder() {
        let get = view.answer(
            .get([
                SearchRange(start: root + [1, 3, 0], include: false, end: []),
                SearchRange(start: root + [1, 2, 0], include: false, end: []),
            ])
        )
        #expect(get == [VarBind(root + [1, 3, 0], .string("Custos")), VarBind(root + [1, 2, 0], .noSuchObject)])
        let next = view.answer(
            .getNext([
                SearchRange(start: root, include: false, end: []),
                SearchRange(start: root + [1, 3, 0], include: true, end: []),
                SearchRange(start: root + [1, 3, 0], include: false, end: root + [2]),
                SearchRange(start: root + [2, 4, 0], include: false, end: []),
            ])
        )
        #expect(next.map(\.name) == [root + [1, 1, 0], root + [1, 3, 0], root + [1, 3, 0], root + [2, 4, 0]])
        #expect(next.map(\.value) == [.integer(1), .string("Custos"), .endOfMibView, .endOfMibView])
        // One non-repeater, then repetitions of the other range until the view ends.
        let bulk = view.answer(
            .getBulk(
                nonRepeaters: 1,
                maxRepetitions: 10,
                [
                    SearchRange(start: root + [2], include: false, end: []),
                    SearchRange(start: root + [1], include: false, end: []),
                ]
            )
        )
        #expect(
            bulk.map(\.name) == [
                root + [2, 1, 0], root + [1, 1, 0], root + [1, 3, 0], root + [2, 1, 0], root + [2, 4, 0],
                root + [2, 4, 0],
            ]
        )
        #expect(bulk.last?.value == .endOfMibView)
    }

    @Test func pdusRoundTripInEitherByteOrder() throws {
        let bytes = AgentXWriter.pdu(.response, sessionID: 7, transactionID: 8, packetID: 9) { writer in
            writer.u32(1234)
            writer.u16(0)
            writer.u16(0)
            writer.varBind(VarBind(root + [1, 3, 0], .string("Custos")))
            writer.varBind(VarBind(root + [2, 4, 0], .counter64(1 << 40)))
            writer.varBind(VarBind([1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0], .objectIdentifier(root + [0, 1])))
        }
        let header = try #require(try AgentXHeader.read(bytes))
        #expect(header.type == .response && header.sessionID == 7 && header.packetID == 9 && header.bigEndian)
        #expect(Int(header.payloadLength) == bytes.count - 20 && header.payloadLength % 4 == 0)
        let read = try AgentXRequest.read(header, payload: Array(bytes[20...]))
        #expect(
            read
                == .response(
                    sysUpTime: 1234,
                    error: 0,
                    index: 0,
                    [
                        VarBind(root + [1, 3, 0], .string("Custos")), VarBind(root + [2, 4, 0], .counter64(1 << 40)),
                        VarBind([1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0], .objectIdentifier(root + [0, 1])),
                    ]
                )
        )
        // A GetNext as a little-endian master would send it: 1.3.6.1.4.1.32473.1 as prefix 4 and four
        // sub-identifiers, included; a null end.
        var payload: [UInt8] = [4, 4, 1, 0]
        for subid: UInt32 in [1, 32473, 1, 0] { payload += withUnsafeBytes(of: subid.littleEndian, Array.init) }
        payload += [0, 0, 0, 0]
        var head: [UInt8] = [1, 6, 0, 0]
        for field: UInt32 in [3, 4, 5, UInt32(payload.count)] {
            head += withUnsafeBytes(of: field.littleEndian, Array.init)
        }
        let little = try #require(try AgentXHeader.read(head))
        #expect(!little.bigEndian && little.sessionID == 3 && little.packetID == 5)
        #expect(
            try AgentXRequest.read(little, payload: payload)
                == .getNext([SearchRange(start: [1, 3, 6, 1, 4, 1, 32473, 1, 0], include: true, end: [])])
        )
        // Truncated and unknown input is an error, not a crash.
        #expect(throws: AgentXError.self) { try AgentXRequest.read(little, payload: Array(payload.dropLast(6))) }
        #expect(throws: AgentXError.self) { try AgentXHeader.read([2] + head.dropFirst()) }
        #expect(throws: AgentXError.self) { try AgentXHeader.read([1, 99] + head.dropFirst(2)) }
    }

    @Test func masterAddressesAreReadAsSnmpdWritesThem() {
        #expect(AgentXMaster("tcp:127.0.0.1:705") == .tcp(host: "127.0.0.1", port: 705))
        #expect(AgentXMaster("/var/agentx/master") == .unix(path: "/var/agentx/master"))
        #expect(AgentXMaster("unix:/run/agentx") == .unix(path: "/run/agentx"))
        for bad in ["tcp:host", "tcp::705", "tcp:h:0", "udp:1.2.3.4:705", "relative"] {
            #expect(AgentXMaster(bad) == nil, "\(bad)")
        }
    }
}
