import CustosTestSupport
import Foundation
import Testing

/// Bad input gives one clear message and a non-zero exit, never a crash.
@Suite struct BadInputTests {
    @Test func missingModulePath() throws {
        let result = try custos(["hsm", "probe", "--module", "/nonexistent/libhsm.so", "--token", "x"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot load PKCS#11 module /nonexistent/libhsm.so"), "\(result.stderr)")
    }

    @Test func unknownTokenLabel() throws {
        let result = try custos(["hsm", "probe", "--module", SoftHSMEnvironment.shared.modulePath, "--token", "absent"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("no token with label \"absent\""), "\(result.stderr)")
    }

    @Test func wrongPIN() throws {
        let token = try SoftHSMEnvironment.shared.makeToken(prefix: "clipin")
        let directory = try makeTemporaryDirectory()
        try "not-the-pin\n".write(toFile: "\(directory)/pin", atomically: true, encoding: .utf8)
        let result = try custos(
            [
                "hsm", "probe", "--module", SoftHSMEnvironment.shared.modulePath, "--token", token.label,
                "--pin-file", "\(directory)/pin",
            ])
        #expect(result.status == 1)
        #expect(result.stderr.contains("rejected the PIN (CKR_PIN_INCORRECT)"), "\(result.stderr)")
    }

    @Test func malformedProfileFile() throws {
        let directory = try makeTemporaryDirectory()
        var text = try String(contentsOfFile: "\(repositoryRoot)/HSMProfiles/softhsm2.yaml", encoding: .utf8)
        text = text.replacingOccurrences(of: "  required: true", with: "  requird: true")
        try text.write(toFile: "\(directory)/broken.yaml", atomically: true, encoding: .utf8)
        let result = try custos(["hsm", "check-profile", "\(directory)/broken.yaml"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("broken.yaml"), "\(result.stderr)")
        #expect(result.stderr.contains("login.requird: unknown key"), "\(result.stderr)")
        let serve = try custos(["serve", "--profile", "\(directory)/broken.yaml"], directory: directory)
        #expect(serve.status == 1)
        #expect(serve.stderr.contains("unknown key"))
    }

    @Test func unknownProfileName() throws {
        let result = try custos(["serve", "--profile", "acme-hsm"], directory: try makeTemporaryDirectory())
        #expect(result.status == 1)
        #expect(result.stderr.contains("no profile \"acme-hsm\""))
        #expect(result.stderr.contains("softhsm2"))
    }

    @Test func pinOnTheCommandLineIsNotAnOption() throws {
        let result = try custos(["hsm", "probe", "--module", "/x.so", "--token", "t", "--pin", "1234"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("Unknown option '--pin'"), "\(result.stderr)")
    }

    @Test func probePrintsAProfileDraftThatParses() throws {
        let token = try SoftHSMEnvironment.shared.makeToken(prefix: "cliprobe")
        let result = try custos(
            [
                "hsm", "probe", "--module", SoftHSMEnvironment.shared.modulePath, "--token", token.label, "--pin-env",
                "P",
            ],
            environment: ["P": token.userPIN]
        )
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("CKM_EDDSA"))
        let directory = try makeTemporaryDirectory()
        try result.stdout.write(toFile: "\(directory)/draft.yaml", atomically: true, encoding: .utf8)
        #expect(try custos(["hsm", "check-profile", "\(directory)/draft.yaml"]).status == 0)
    }
}
