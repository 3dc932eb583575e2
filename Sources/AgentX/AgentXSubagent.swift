import NIOCore
import NIOPosix
import Synchronization

/// Where the master agent listens: `tcp:host:port` or a Unix socket path (snmpd's `agentXSocket`).
public enum AgentXMaster: Sendable, Hashable {
    case tcp(host: String, port: Int)
    case unix(path: String)

    /// `tcp:127.0.0.1:705`, `unix:/var/agentx/master` or a bare path.
    public init?(_ text: String) {
        if text.hasPrefix("tcp:") {
            let rest = text.dropFirst(4)
            guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]),
                (1...65535).contains(port), colon > rest.startIndex
            else { return nil }
            self = .tcp(host: String(rest[..<colon]), port: port)
        } else {
            let path = text.hasPrefix("unix:") ? String(text.dropFirst(5)) : text
            guard path.hasPrefix("/") else { return nil }
            self = .unix(path: path)
        }
    }
}

/// An AgentX subagent (RFC 2741): connects to the master agent, opens a session, registers its
/// subtree, answers Get, GetNext and GetBulk from the view its provider gives for each request (sets
/// are refused: `notWritable`), and sends notifications (traps) through the master. When the master
/// goes away it connects again, after 1 s doubling to 30 s, until the task running it is cancelled.
public final class AgentXSubagent: Sendable {
    public let master: AgentXMaster
    public let subtree: OID
    let description: String
    let view: @Sendable () async -> MIBView
    let events: @Sendable (String) -> Void
    let started = ContinuousClock.now
    private let state = Mutex(State())

    private struct State {
        var session: Session?
        var nextPacketID: UInt32 = 1
        var waiting: [UInt32: CheckedContinuation<AgentXRequest, any Error>] = [:]
    }

    private struct Session {
        var id: UInt32
        var outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    }

    /// `events` hears of connections, registrations and failures (for the log).
    public init(
        master: AgentXMaster,
        subtree: OID,
        description: String,
        events: @escaping @Sendable (String) -> Void = { _ in },
        view: @escaping @Sendable () async -> MIBView
    ) {
        self.master = master
        self.subtree = subtree
        self.description = description
        self.events = events
        self.view = view
    }

    /// Whether a session with the master is open and the subtree registered.
    public var isRegistered: Bool { state.withLock { $0.session != nil } }

    /// Hundredths of a second since the subagent started (sysUpTime in its PDUs).
    var upTime: UInt32 {
        let elapsed = ContinuousClock.now - started
        return UInt32(
            truncatingIfNeeded: elapsed.components.seconds * 100 + elapsed.components.attoseconds
                / 10_000_000_000_000_000
        )
    }

    /// Serves until cancelled.
    public func run() async {
        var delay = Duration.seconds(1)
        while !Task.isCancelled {
            do {
                try await serveOneConnection()
                delay = .seconds(1)
            } catch {
                events("AgentX: \(error)")
            }
            failWaiting(AgentXError("the master agent went away"))
            guard !Task.isCancelled else { break }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(30))
        }
    }

    /// Sends a notification: `trap` (snmpTrapOID.0) with `varBinds`, after sysUpTime.0. Throws when no
    /// session is open or the master refuses it.
    public func notify(trap: OID, _ varBinds: [VarBind]) async throws {
        let all =
            [
                VarBind([1, 3, 6, 1, 2, 1, 1, 3, 0], .timeTicks(upTime)),
                VarBind([1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0], .objectIdentifier(trap)),
            ] + varBinds
        let answer = try await request(.notify) { writer in
            for varBind in all { writer.varBind(varBind) }
        }
        if case .response(_, let error, _, _) = answer, error != 0 {
            throw AgentXError("the master agent refused the notification (error \(error))")
        }
    }

    private func serveOneConnection() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let bootstrap = ClientBootstrap(group: group).connectTimeout(.seconds(5))
        let initializer: @Sendable (any Channel) -> EventLoopFuture<NIOAsyncChannel<ByteBuffer, ByteBuffer>> = {
            channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(AgentXFrameDecoder()))
                return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        switch master {
        case .tcp(let host, let port):
            channel = try await bootstrap.connect(host: host, port: port, channelInitializer: initializer)
        case .unix(let path):
            channel = try await bootstrap.connect(unixDomainSocketPath: path, channelInitializer: initializer)
        }
        try await channel.executeThenClose { inbound, outbound in
            var frames = inbound.makeAsyncIterator()
            // Open, then register: the master sends nothing else before.
            let openID = nextPacketID()
            try await outbound.write(
                ByteBuffer(
                    bytes: AgentXWriter.pdu(.open, sessionID: 0, transactionID: 0, packetID: openID) { writer in
                        writer.u8(0)
                        writer.u8(0)
                        writer.u16(0)
                        writer.oid(subtree)
                        writer.octets(Array(description.utf8))
                    }
                )
            )
            let (opened, openAnswer) = try await Self.response(to: openID, from: &frames)
            guard case .response(_, let openError, _, _) = openAnswer, openError == 0 else {
                throw AgentXError("the master agent refused the session: \(openAnswer)")
            }
            let registerID = nextPacketID()
            try await outbound.write(
                ByteBuffer(
                    bytes: AgentXWriter.pdu(
                        .register,
                        sessionID: opened.sessionID,
                        transactionID: 0,
                        packetID: registerID
                    ) {
                        writer in
                        writer.u8(0)
                        writer.u8(127)
                        writer.u8(0)
                        writer.u8(0)
                        writer.oid(subtree)
                    }
                )
            )
            let (_, registered) = try await Self.response(to: registerID, from: &frames)
            guard case .response(_, let registerError, _, _) = registered, registerError == 0 else {
                throw AgentXError("the master agent refused to register \(subtree.dotted): \(registered)")
            }
            state.withLock { $0.session = Session(id: opened.sessionID, outbound: outbound) }
            events("AgentX: registered \(subtree.dotted) with the master agent (session \(opened.sessionID))")
            defer { state.withLock { $0.session = nil } }
            while let frame = try await frames.next() {
                let bytes = Array(buffer: frame)
                guard let header = try AgentXHeader.read(bytes),
                    let request = try AgentXRequest.read(header, payload: Array(bytes[AgentXHeader.length...]))
                else { continue }
                if case .close = request { return }
                if case .response = request {
                    resume(header.packetID, with: request)
                    continue
                }
                if let answer = await answer(request, to: header) {
                    try await outbound.write(ByteBuffer(bytes: answer))
                }
            }
        }
    }

    /// The Response PDU for a request of the master, or nil when none is due (CleanupSet).
    func answer(_ request: AgentXRequest, to header: AgentXHeader) async -> [UInt8]? {
        var error: UInt16 = 0
        var index: UInt16 = 0
        var varBinds: [VarBind] = []
        switch request {
        case .get, .getNext, .getBulk: varBinds = await view().answer(request)
        case .testSet(let bindings):
            // notWritable (RFC 2741 section 7.2.4.1): nothing here can be set.
            error = 17
            index = bindings.isEmpty ? 0 : 1
        case .commitSet, .undoSet: break
        case .cleanupSet, .close, .response: return nil
        }
        return AgentXWriter.pdu(
            .response,
            sessionID: header.sessionID,
            transactionID: header.transactionID,
            packetID: header.packetID
        ) { writer in
            writer.u32(upTime)
            writer.u16(error)
            writer.u16(index)
            for varBind in varBinds { writer.varBind(varBind) }
        }
    }

    private func nextPacketID() -> UInt32 {
        state.withLock { state in
            defer { state.nextPacketID &+= 1 }
            return state.nextPacketID
        }
    }

    /// Reads frames until the response to `packetID` (before the session serves requests).
    private static func response(
        to packetID: UInt32,
        from frames: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    ) async throws -> (AgentXHeader, AgentXRequest) {
        while let frame = try await frames.next() {
            let bytes = Array(buffer: frame)
            guard let header = try AgentXHeader.read(bytes), header.type == .response, header.packetID == packetID,
                let answer = try AgentXRequest.read(header, payload: Array(bytes[AgentXHeader.length...]))
            else { continue }
            return (header, answer)
        }
        throw AgentXError("the master agent closed the connection")
    }

    /// Sends a PDU of the open session and waits (at most 5 s) for its response.
    private func request(_ type: AgentXHeader.PDUType, payload: @escaping (inout AgentXWriter) -> Void) async throws
        -> AgentXRequest
    {
        let packetID = nextPacketID()
        guard let session = state.withLock({ $0.session }) else {
            throw AgentXError("no session with the master agent is open")
        }
        let bytes = AgentXWriter.pdu(
            type,
            sessionID: session.id,
            transactionID: packetID,
            packetID: packetID,
            payload: payload
        )
        let timeout = Task {
            try await Task.sleep(for: .seconds(5))
            self.resume(packetID, throwing: AgentXError("the master agent did not answer in 5 s"))
        }
        defer { timeout.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            state.withLock { $0.waiting[packetID] = continuation }
            Task {
                do { try await session.outbound.write(ByteBuffer(bytes: bytes)) } catch {
                    self.resume(packetID, throwing: error)
                }
            }
        }
    }

    private func resume(_ packetID: UInt32, with answer: AgentXRequest) {
        state.withLock { $0.waiting.removeValue(forKey: packetID) }?.resume(returning: answer)
    }

    private func resume(_ packetID: UInt32, throwing error: any Error) {
        state.withLock { $0.waiting.removeValue(forKey: packetID) }?.resume(throwing: error)
    }

    private func failWaiting(_ error: any Error) {
        for continuation in state.withLock({ state in
            defer { state.waiting = [:] }; return Array(state.waiting.values)
        }) {
            continuation.resume(throwing: error)
        }
    }
}

/// Splits the byte stream into whole PDUs: a header, then its payload.
struct AgentXFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let head = buffer.getBytes(at: buffer.readerIndex, length: AgentXHeader.length),
            let header = try AgentXHeader.read(head)
        else { return .needMoreData }
        guard header.payloadLength <= 1 << 20 else { throw AgentXError("a PDU of \(header.payloadLength) bytes") }
        let total = AgentXHeader.length + Int(header.payloadLength)
        guard let frame = buffer.readSlice(length: total) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }
}
