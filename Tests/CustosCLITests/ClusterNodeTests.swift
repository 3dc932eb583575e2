import CustosTestSupport
import Foundation
import MetadataStore
import Testing

/// Two `custos serve` nodes on one PostgreSQL store and one token: both serve the same CRLs, a revocation
/// through one node is in the other's CRL and OCSP answers within the stated bound, and the background
/// jobs (CRL schedule, audit checkpoints, vault re-encryption) run on one node and move to the other
/// when its holder is killed.
@Suite struct ClusterNodeTests {
    @Test func revocationsCRLsAndBackgroundJobsAcrossNodes() async throws {
        let url = try await PostgresServer.shared().newDatabase()
        let directory = try makeTemporaryDirectory("cluster-nodes")
        let a = try ClusterNode(store: url, directory: directory)
        try await a.started()
        let b = try ClusterNode(store: url, directory: directory)
        try await b.started()
        let store = try await PostgresBackend.open(try PostgresLocation(url: url), types: CustosStore.recordTypes)
        defer { store.shutdown() }

        // A CA made through A, a certificate issued through B.
        let caPath = try await a.makeCA("line")
        let (leafPath, serial) = try await b.issue(ca: "line", name: "leaf")

        // Both nodes serve the same CRL: the one a node issued is in the store for the other. (The
        // schedule may issue one meanwhile; then both serve that one within a stamp poll.)
        var same = false
        for _ in 0..<20 where !same {
            #expect(try await a.fetch("/crl/line.crl", to: "\(directory)/a.crl") == 200)
            #expect(try await b.fetch("/crl/line.crl", to: "\(directory)/b.crl") == 200)
            same =
                (try Data(contentsOf: URL(fileURLWithPath: "\(directory)/a.crl")))
                == (try Data(contentsOf: URL(fileURLWithPath: "\(directory)/b.crl")))
            if !same { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect(same, "the nodes serve different CRLs")

        // Revoked through the node that does not run the CRL schedule: the holder learns of it from the
        // store and issues after the revocation delay, without any fetch.
        var schedule = try await leaseHolder("crl-schedule", in: store)
        for _ in 0..<40 where schedule == nil {
            try await Task.sleep(for: .milliseconds(250))
            schedule = try await leaseHolder("crl-schedule", in: store)
        }
        let holder = holderPID(schedule) == a.pid ? a : b
        let other = holder === a ? b : a
        #expect(holderPID(schedule) == holder.pid, "\(String(describing: schedule))")
        let before = try #require(try await store.read { try $0.crl(scope: "line") })
        let revoked = try await other.call(
            "POST",
            "/v1/cas/line/certificates/\(serial)/revoke",
            ["reason": "keyCompromise"]
        )
        #expect(revoked.status == 200, "\(revoked.text)")
        let revokedAt = ContinuousClock.now
        // The revoked certificate's OCSP answer on the holder: the store has it at once.
        let ocsp = try await runClient(
            "openssl",
            ["ocsp", "-issuer", caPath, "-cert", leafPath, "-CAfile", caPath, "-url", "\(try holder.base)/ocsp"]
        )
        #expect(ocsp.stdout.contains("\(leafPath): revoked"), "\(ocsp.stdout) \(ocsp.stderr)")
        var scheduled: CRLRecord?
        while ContinuousClock.now - revokedAt < .seconds(20) {
            let stored = try await store.read { try $0.crl(scope: "line") }
            if let stored, stored.number > before.number, stored.fullEntries == 1 {
                scheduled = stored
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let issuedByHolder = try #require(scheduled, "the CRL schedule did not pick up the other node's revocation")
        // Revocation delay 2 s, stamps polled every 250 ms, the schedule checks once a second.
        #expect(ContinuousClock.now - revokedAt < .seconds(10))
        for node in [a, b] {
            let file = "\(directory)/after-\(node.pid).crl"
            #expect(try await node.fetch("/crl/line.crl", to: file) == 200)
            let text = try await runClient("openssl", ["crl", "-inform", "DER", "-in", file, "-noout", "-text"])
            #expect(text.stdout.uppercased().contains(serial.uppercased()), "\(text.stdout)")
            // Each node serves the newest CRL: the holder's, or one it issued itself since.
            let served = try #require(try await store.read { try $0.crl(scope: "line") })
            #expect(served.number >= issuedByHolder.number)
        }

        // The holder of the CRL schedule dies: the other node takes the job over within the lease's term
        // (15 s) and a check (1 s).
        let checkpoints = try await leaseHolder("audit-checkpoint", in: store)
        #expect(checkpoints == nil || [a.pid, b.pid].contains(holderPID(checkpoints) ?? 0))
        let killed = ContinuousClock.now
        #expect(try await holder.process.stop(SIGKILL) == SIGKILL)
        var movedTo: Int32?
        while ContinuousClock.now - killed < .seconds(40) {
            if let pid = holderPID(try await leaseHolder("crl-schedule", in: store)), pid == other.pid {
                movedTo = pid
                break
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(movedTo == other.pid, "the CRL schedule stayed with the killed node")
        // The survivor serves on: it issues and revokes, and its schedule publishes the revocation.
        let second = try await other.call(
            "POST",
            "/v1/cas/line/certificates",
            ["csr": try await newCSR(in: directory, name: "leaf 2"), "category": "device"]
        )
        #expect(second.status == 201, "\(second.text)")
        #expect(try await other.stop() == 0, "\(other.process.text)")

        let audit = try await custosClient(["audit", "verify", "--store", url])
        #expect(audit.status == 0 && audit.stdout.contains("audit chain intact"), "\(audit.stdout) \(audit.stderr)")
        let verified = try await custosClient(["store", "verify", "--store", url])
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
    }
}
