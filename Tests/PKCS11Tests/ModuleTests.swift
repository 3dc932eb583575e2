import CustosTestSupport
import Foundation
import PKCS11
import Testing

@Suite struct ModuleTests {
    @Test func loadingTheSamePathTwiceSharesOneModule() throws {
        let environment = SoftHSMEnvironment.shared
        let again = try Module.load(path: environment.modulePath)
        #expect(again === environment.module)
        #expect(try again.info().manufacturer.contains("SoftHSM"))
    }

    @Test func missingModuleIsAClearError() {
        do {
            _ = try Module.load(path: "/nonexistent/libnothing.so")
            Issue.record("loading a missing module succeeded")
        } catch {
            #expect(error.code == .moduleNotLoadable)
            #expect(error.description.contains("/nonexistent/libnothing.so"))
        }
    }

    @Test func aLibraryThatIsNotAModuleIsRefused() throws {
        do {
            _ = try Module.load(
                path: ["/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib/x86_64-linux-gnu/libz.so.1"]
                    .first(where: FileManager.default.fileExists(atPath:)) ?? "/usr/lib/x86_64-linux-gnu/libc.so.6"
            )
            Issue.record("a non-PKCS#11 library loaded")
        } catch {
            #expect(error.code == .moduleNotLoadable)
            #expect(error.description.contains("C_GetFunctionList"))
        }
    }

    @Test func unknownTokenLabelNamesTheTokensThatExist() throws {
        let environment = SoftHSMEnvironment.shared
        let token = try environment.makeToken(prefix: "known")
        do {
            _ = try environment.module.slot(tokenLabel: "no-such-token")
            Issue.record("found a token that does not exist")
        } catch {
            #expect(error.code == .tokenNotFound)
            #expect(error.description.contains("no-such-token"))
            #expect(error.description.contains(token.label))
        }
    }

    @Test func tokenInfoAndMechanismsDescribeSoftHSM() throws {
        let environment = SoftHSMEnvironment.shared
        let token = try environment.makeToken(prefix: "info")
        let slot = try environment.module.slot(tokenLabel: token.label)
        let info = try environment.module.tokenInfo(slot)
        #expect(info.label == token.label)
        #expect(info.loginRequired)
        #expect(info.userPINInitialized)
        #expect(try environment.module.slot(tokenSerial: info.serialNumber) == slot)
        let mechanisms = try environment.module.mechanisms(slot)
        for required in [MechanismType.ecdsa, .rsaPKCS, .rsaPKCSPSS, .eddsa, .aesGCM, .aesKeyWrapPad] {
            #expect(mechanisms.contains(required), "\(required)")
        }
        let ecdsa = try environment.module.mechanismInfo(slot, .ecdsa)
        #expect(ecdsa.flags.contains(.sign))
        #expect(ecdsa.flags.contains(.verify))
        #expect(ecdsa.maxKeySize >= 521)
    }

    @Test func wrongPINIsCKR_PIN_INCORRECT() throws {
        let environment = SoftHSMEnvironment.shared
        let token = try environment.makeToken(prefix: "pin")
        let session = try environment.module.openSession(try environment.module.slot(tokenLabel: token.label))
        do {
            try session.login(.user, pin: "wrong-\(token.userPIN)")
            Issue.record("a wrong PIN logged in")
        } catch {
            #expect(error.returnValue == .pinIncorrect)
            #expect(error.function == "C_Login")
        }
    }

    @Test func returnValueNamesComeFromTheSpecification() {
        #expect(ReturnValue.sessionHandleInvalid.name == "CKR_SESSION_HANDLE_INVALID")
        #expect(ReturnValue(rawValue: 0x8000_0001).name == "CKR_VENDOR_DEFINED+0x1")
        #expect(ReturnValue.deviceRemoved.requiresReinitialization)
        #expect(ReturnValue.sessionClosed.invalidatesSession)
        #expect(!ReturnValue.pinIncorrect.requiresReinitialization)
        #expect(MechanismType(name: "CKM_EDDSA") == .eddsa)
        #expect(MechanismType(name: "0x1041") == .ecdsa)
        #expect(MechanismType(name: "CKM_NOPE") == nil)
    }
}
