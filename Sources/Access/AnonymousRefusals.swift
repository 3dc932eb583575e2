public import Foundation
import Synchronization

/// Requests refused for want of a valid credential, counted by where they came from, the route they
/// asked for and why, until the next summary goes into the audit log.
///
/// Anyone can send such requests, as fast as the network allows and with paths as long as the server
/// reads; one audit entry each would let them fill the store. Counting costs a bounded amount however
/// many arrive: at most `maxKinds` distinct (source, route, reason) a summary, the rest counted together.
/// Refusals of a valid credential are not counted here: they stay individual audit entries.
public final class AnonymousRefusals: Sendable {
    /// One kind of refusal: the client's address, the route's pattern (`POST /v1/keys/{name}/sign`,
    /// never the raw path) and the reason.
    public struct Kind: Hashable, Sendable {
        public var source: String
        public var route: String
        public var reason: String

        public init(source: String, route: String, reason: String) {
            self.source = source
            self.route = route
            self.reason = reason
        }
    }

    /// What was counted between `from` and `to`.
    public struct Summary: Sendable {
        public var counts: [Kind: Int]
        /// Refusals of kinds beyond `maxKinds`, counted together.
        public var others: Int
        public var from: Date
        public var to: Date

        public var isEmpty: Bool { counts.isEmpty && others == 0 }
        /// Every refusal counted.
        public var total: Int { counts.values.reduce(others, +) }
    }

    /// The most distinct kinds a summary holds.
    public let maxKinds: Int
    private let state: Mutex<(counts: [Kind: Int], others: Int, since: Date)>

    public init(maxKinds: Int = 256) {
        self.maxKinds = max(1, maxKinds)
        state = Mutex(([:], 0, Date()))
    }

    /// Counts one refusal. Long fields are cut (a route pattern is short; a source is an address).
    public func note(_ kind: Kind) {
        var kind = kind
        kind.source = String(kind.source.prefix(64))
        kind.route = String(kind.route.prefix(200))
        state.withLock { state in
            if let count = state.counts[kind] {
                state.counts[kind] = count + 1
            } else if state.counts.count < maxKinds {
                state.counts[kind] = 1
            } else {
                state.others += 1
            }
        }
    }

    /// Takes what was counted since the last call and starts counting afresh.
    public func drain(now: Date = Date()) -> Summary {
        state.withLock { state in
            let summary = Summary(counts: state.counts, others: state.others, from: state.since, to: now)
            state = ([:], 0, now)
            return summary
        }
    }
}
