import CustosTestSupport
import Foundation
import HSM
import PKCS11
import Synchronization
import Testing
import WorkerThreads

@Suite struct SessionPoolTests {
    @Test func manyConcurrentTasksShareFewerSessions() async throws {
        let fixture = try await PoolFixture(sessions: 2)
        let tasks = 48
        let perTask = 5
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<tasks {
                group.addTask {
                    for round in 0..<perTask { try await fixture.signAndCheck("task \(index) round \(round)") }
                }
            }
            try await group.waitForAll()
        }
        let statistics = fixture.pool.statistics
        #expect(statistics.operations >= tasks * perTask)
        #expect(statistics.sessionsOpen <= 2)
        #expect(statistics.failures == 0)
        #expect(statistics.waiters == 0)
    }

    @Test func operationsRunOnTheWorkerThreadsNotTheCooperativePool() async throws {
        let fixture = try await PoolFixture(sessions: 2)
        let pool = fixture.pool
        #expect(!pool.isWorkerThread)
        for _ in 0..<20 {
            #expect(try await pool.withSession { _ in pool.isWorkerThread })
        }
    }

    /// Live jobs restart the pool's idle clock; jobs marked as background work do not.
    @Test func backgroundWorkDoesNotCountAsLiveWork() async throws {
        let fixture = try await PoolFixture(sessions: 1)
        let pool = fixture.pool
        try await fixture.signAndCheck("live")
        #expect(!pool.liveWork.hasBeenIdle(for: .seconds(3600)))
        #expect(pool.liveWork.hasBeenIdle(for: .zero))
        #expect(try await eventually { pool.liveWork.hasBeenIdle(for: .milliseconds(200)) })
        for round in 0..<3 {
            try await LiveWorkProbe.inBackground { try await fixture.signAndCheck("ahead \(round)") }
        }
        #expect(pool.liveWork.hasBeenIdle(for: .milliseconds(200)), "background work left the clock where it was")
        try await fixture.signAndCheck("live again")
        #expect(!pool.liveWork.hasBeenIdle(for: .seconds(3600)))
    }

    @Test func waiterTimesOutWithAClearError() async throws {
        let faults = try SoftHSMEnvironment.shared.faultInjector()
        let fixture = try await PoolFixture(modulePath: faults.modulePath, sessions: 1, waitTimeout: .seconds(1))
        faults.latency("C_Sign", .seconds(3))
        async let slow: Void = fixture.signAndCheck("holds the only session")
        // Wait for the real condition (the only session busy), not for a guessed delay.
        #expect(try await eventually { fixture.pool.statistics.inUse == 1 })
        do {
            try await fixture.signAndCheck("waits too long")
            Issue.record("a waiter got a session although the only one was busy")
        } catch let error as HSMError {
            #expect(error.code == .poolTimeout)
            #expect(error.description.contains("no HSM session became free"))
        }
        try await slow
        faults.latency("C_Sign", .zero)
        #expect(fixture.pool.statistics.timeouts == 1)
        try await fixture.signAndCheck("serves again")
    }

    @Test func wrongPINFailsOnceAndIsNotRetried() async throws {
        let faults = try SoftHSMEnvironment.shared.faultInjector()
        let module = try Module.load(path: faults.modulePath)
        let token = try SoftHSMEnvironment.shared.makeToken(prefix: "badpin", on: module)
        faults.reset()  // count only what the pool does
        let configuration = SessionPoolConfiguration(
            modulePath: faults.modulePath,
            token: .label(token.label),
            pin: token.userPIN + "x"
        )
        do {
            _ = try await SessionPool.start(configuration)
            Issue.record("a wrong PIN started a pool")
        } catch let error as HSMError {
            #expect(error.code == .loginFailed)
            #expect(error.description.contains("CKR_PIN_INCORRECT"))
            #expect(!error.description.contains(token.userPIN))
        }
        #expect(faults.calls("C_Login") == 1)
    }

    @Test func unknownTokenLabelIsAClearError() async throws {
        let configuration = SessionPoolConfiguration(
            modulePath: SoftHSMEnvironment.shared.modulePath,
            token: .label("no-such-token"),
            pin: "1234"
        )
        await #expect(throws: HSMError.self) { try await SessionPool.start(configuration) }
    }

    @Test func shutdownFailsLaterCallersAndFinalizesOnce() async throws {
        let faults = try SoftHSMEnvironment.shared.faultInjector()
        var fixture: PoolFixture? = try await PoolFixture(modulePath: faults.modulePath)
        try await fixture!.signAndCheck()
        let pool = fixture!.pool
        pool.shutdown()
        await #expect(throws: HSMError.self) { try await pool.withSession { _ in 1 } }
        #expect(faults.calls("C_Finalize") == 0)
        fixture = nil
        _ = consume pool
        #expect(faults.calls("C_Finalize") == 1)
        #expect(faults.calls("C_Initialize") == 1)
    }

    @Test func keyHandlesAreCachedNotSearchedPerSignature() async throws {
        let faults = try SoftHSMEnvironment.shared.faultInjector()
        let fixture = try await PoolFixture(modulePath: faults.modulePath)
        try await fixture.signAndCheck()
        let searches = faults.calls("C_FindObjectsInit")
        for _ in 0..<10 { try await fixture.signAndCheck() }
        #expect(faults.calls("C_FindObjectsInit") == searches)
        #expect(faults.calls("C_Sign") >= 11)
    }
}
