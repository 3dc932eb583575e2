import CustosTestSupport
import Foundation
import HSM
import PKCS11
import Testing

/// Every recovery path, with real faults where SoftHSM2 can produce them and injected ones otherwise.
/// After each fault the same pool serves again and its signatures verify.
@Suite struct PoolRecoveryTests {
    @Test func sessionsClosedBehindThePoolAreReopened() async throws {
        let fixture = try await PoolFixture(modulePath: try SoftHSMEnvironment.shared.isolatedModuleCopy())
        try await fixture.signAndCheck()
        try fixture.pool.module.closeAllSessions(try fixture.pool.module.slot(tokenLabel: fixture.token.label))
        try await fixture.signAndCheck("after C_CloseAllSessions")
        #expect(fixture.pool.statistics.recoveries["session", default: 0] >= 1)
        #expect(fixture.pool.statistics.errors["CKR_SESSION_HANDLE_INVALID", default: 0] >= 1)
    }

    @Test func logoutBehindThePoolLogsInAgain() async throws {
        let fixture = try await PoolFixture(modulePath: try SoftHSMEnvironment.shared.isolatedModuleCopy())
        try await fixture.signAndCheck()
        let module = fixture.pool.module
        let outsider = try module.openSession(try module.slot(tokenLabel: fixture.token.label))
        try outsider.logout()
        #expect(try !outsider.info().isLoggedIn)
        try await fixture.signAndCheck("after C_Logout")
        #expect(fixture.pool.statistics.recoveries["login", default: 0] == 1)
        #expect(try outsider.info().isLoggedIn)
    }

    @Test func finalizeBehindThePoolReinitializesTheModule() async throws {
        let copy = try SoftHSMEnvironment.shared.isolatedModuleCopy()
        let fixture = try await PoolFixture(modulePath: copy)
        try await fixture.signAndCheck()
        let generation = fixture.pool.module.generation
        try finalizeBehindTheBack(modulePath: copy)
        try await fixture.signAndCheck("after C_Finalize")
        #expect(fixture.pool.module.generation == generation + 1)
        #expect(fixture.pool.statistics.recoveries["reinitialize", default: 0] == 1)
        #expect(fixture.pool.statistics.errors["CKR_CRYPTOKI_NOT_INITIALIZED", default: 0] >= 1)
    }

    @Test(arguments: [ReturnValue.deviceError, .deviceRemoved, .tokenNotPresent])
    func deviceFailuresReinitializeAndRetry(_ rv: ReturnValue) async throws {
        let faults = try SoftHSMEnvironment.shared.faultInjector()
        let fixture = try await PoolFixture(modulePath: faults.modulePath)
        try await fixture.signAndCheck()
        faults.inject("C_Sign", rv)
        try await fixture.signAndCheck("after \(rv.name)")
        #expect(faults.calls("C_Initialize") == 2)
        #expect(faults.calls("C_Finalize") == 1)
        #expect(fixture.pool.statistics.recoveries["reinitialize", default: 0] == 1)
    }

    @Test func aRemovedDeviceFailsCleanlyUntilItReturns() async throws {
        let faults = try SoftHSMEnvironment.shared.faultInjector()
        let fixture = try await PoolFixture(modulePath: faults.modulePath)
        try await fixture.signAndCheck()
        faults.removeDevice()
        // The device is still gone when the pool re-initialises: the caller gets an error, not a crash.
        faults.inject("C_Initialize", .deviceRemoved, count: 1)
        do {
            try await fixture.signAndCheck("while removed")
            Issue.record("signed while the device was removed")
        } catch let error as HSMError {
            #expect(error.underlying?.returnValue != nil)
        }
        // The device is back: the same pool serves again.
        try await fixture.signAndCheck("after the device returned")
        #expect(fixture.pool.statistics.recoveries["reinitialize", default: 0] >= 2)
    }

    @Test func invalidHandlesAreSearchedAgain() async throws {
        let faults = try SoftHSMEnvironment.shared.faultInjector()
        let fixture = try await PoolFixture(modulePath: faults.modulePath)
        try await fixture.signAndCheck()
        let searches = faults.calls("C_FindObjectsInit")
        faults.inject("C_SignInit", .objectHandleInvalid)
        try await fixture.signAndCheck("after CKR_OBJECT_HANDLE_INVALID")
        #expect(faults.calls("C_FindObjectsInit") == searches + 1)
        #expect(fixture.pool.statistics.recoveries["handles", default: 0] == 1)
    }

    @Test(arguments: [ReturnValue.sessionHandleInvalid, .sessionClosed])
    func injectedSessionLossIsRecovered(_ rv: ReturnValue) async throws {
        let faults = try SoftHSMEnvironment.shared.faultInjector()
        let fixture = try await PoolFixture(modulePath: faults.modulePath)
        faults.inject("C_Sign", rv)
        try await fixture.signAndCheck()
        #expect(fixture.pool.statistics.recoveries["session", default: 0] == 1)
    }

    @Test func keyGenerationIsNeverRetriedBlindly() async throws {
        let faults = try SoftHSMEnvironment.shared.faultInjector()
        let fixture = try await PoolFixture(modulePath: faults.modulePath)
        let before = faults.calls("C_GenerateKeyPair")
        faults.inject("C_GenerateKeyPair", .sessionHandleInvalid)
        await #expect(throws: HSMError.self) { try await fixture.store.generate(.ecP256, label: "once") }
        #expect(faults.calls("C_GenerateKeyPair") == before + 1)
        // The pool healed its session, and a deliberate second attempt works.
        _ = try await fixture.store.generate(.ecP256, label: "once")
        try await fixture.signAndCheck()
    }

    @Test func slowCallsDelayButDoNotBreakThePool() async throws {
        let faults = try SoftHSMEnvironment.shared.faultInjector()
        let fixture = try await PoolFixture(modulePath: faults.modulePath, sessions: 2)
        faults.latency("C_Sign", .milliseconds(50))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<8 { group.addTask { try await fixture.signAndCheck("slow \(index)") } }
            try await group.waitForAll()
        }
        #expect(fixture.pool.statistics.failures == 0)
    }

    @Test func keepaliveSignsOnIdleSessionsAndHealsThem() async throws {
        let copy = try SoftHSMEnvironment.shared.isolatedModuleCopy()
        let fixture = try await PoolFixture(modulePath: copy, sessions: 2, keepalive: .milliseconds(100))
        #expect(try await eventually { fixture.pool.statistics.keepalives >= 2 })
        #expect(fixture.pool.statistics.sessionsOpen == 2)
        // Sessions killed behind the pool's back are reopened by the keepalive, before any request.
        try fixture.pool.module.closeAllSessions(try fixture.pool.module.slot(tokenLabel: fixture.token.label))
        #expect(try await eventually { fixture.pool.statistics.recoveries["session", default: 0] >= 1 })
        try await fixture.signAndCheck()
    }
}
