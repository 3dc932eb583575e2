public import AgentX
import Logging
public import ServiceLifecycle

/// Runs the AgentX subagent for as long as the server runs.
public struct SNMPService: Service {
    let subagent: AgentXSubagent

    public init(subagent: AgentXSubagent) { self.subagent = subagent }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await subagent.run() }
    }
}

/// `snmp:` in the configuration file.
public struct SNMPSettings: Sendable, Hashable {
    /// Where snmpd's AgentX master listens (`agentXSocket`).
    public var master: AgentXMaster

    public init(master: AgentXMaster) { self.master = master }
}
