/// The objects a subagent serves at one moment, sorted, and the answers to the master agent's
/// searches over them (RFC 2741 sections 7.2.3.1 to 7.2.3.3).
public struct MIBView: Sendable {
    public let entries: [VarBind]

    public init(_ entries: [VarBind]) {
        self.entries = entries.sorted { OID.precedes($0.name, $1.name) }
    }

    /// The value of exactly `range.start`.
    func get(_ range: SearchRange) -> VarBind {
        if let found = entry(atOrAfter: range.start), found.name == range.start { return found }
        return VarBind(range.start, .noSuchObject)
    }

    /// The first object after `range.start` (or at it, when the range includes it) and before its end.
    func next(_ range: SearchRange) -> VarBind {
        guard let found = range.include ? entry(atOrAfter: range.start) : entry(after: range.start),
            range.end.isEmpty || OID.precedes(found.name, range.end)
        else { return VarBind(range.start, .endOfMibView) }
        return found
    }

    /// The answer to a Get, GetNext or GetBulk.
    public func answer(_ request: AgentXRequest) -> [VarBind] {
        switch request {
        case .get(let ranges): return ranges.map(get)
        case .getNext(let ranges): return ranges.map(next)
        case .getBulk(let nonRepeaters, let maxRepetitions, let ranges):
            let split = min(nonRepeaters, ranges.count)
            var answer = ranges[..<split].map(next)
            var repeaters = Array(ranges[split...])
            for _ in 0..<min(maxRepetitions, 1000) where !repeaters.isEmpty {
                let row = repeaters.map(next)
                answer += row
                if row.allSatisfy({ $0.value == .endOfMibView }) { break }
                // The next repetition continues after each repeater's last answer, within its range.
                repeaters = zip(repeaters, row).map { range, found in
                    SearchRange(start: found.name, include: false, end: range.end)
                }
            }
            return answer
        default: return []
        }
    }

    private func entry(atOrAfter oid: OID) -> VarBind? {
        let index = firstIndex { !OID.precedes($0.name, oid) }
        return index < entries.count ? entries[index] : nil
    }

    private func entry(after oid: OID) -> VarBind? {
        let index = firstIndex { OID.precedes(oid, $0.name) }
        return index < entries.count ? entries[index] : nil
    }

    /// Binary search: the first entry for which `isAtOrPast` holds (it holds for every later one).
    private func firstIndex(where isAtOrPast: (VarBind) -> Bool) -> Int {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if isAtOrPast(entries[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
