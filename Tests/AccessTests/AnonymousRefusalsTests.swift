import Access
import Testing

/// The tally of refusals without a credential: bounded in kinds, exact in totals, empty after a drain.
@Suite struct AnonymousRefusalsTests {
    @Test func theTallyIsBoundedAndForgetsNothingItCounted() {
        let refusals = AnonymousRefusals(maxKinds: 3)
        for index in 0..<10 {
            refusals.note(.init(source: "10.0.0.\(index % 5)", route: "GET /v1/keys", reason: "no credential"))
        }
        let summary = refusals.drain()
        #expect(summary.counts.count == 3 && summary.total == 10 && summary.others == 4)
        #expect(refusals.drain().isEmpty)
    }
}
