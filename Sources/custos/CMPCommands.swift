import APIModels
import ArgumentParser

/// A profile's CMP settings, as options of `enrollment create` and `update`.
struct CMPProfileOptions: ParsableArguments {
    @Flag(
        name: .customLong("cmp-no-implicit-confirm"),
        help: "CMP: always wait for the client's certConf, even when it asks for implicit confirmation."
    )
    var noImplicitConfirm = false
    @Option(
        name: .customLong("cmp-check-after"),
        help: "CMP: seconds a client waits between polls while an officer decides (default 60)."
    )
    var checkAfterSeconds: Int?
    @Option(name: .customLong("cmp-confirm-wait"), help: "CMP: seconds a certConf is awaited (default 600).")
    var confirmWaitSeconds: Int?
    @Option(
        name: .customLong("cmp-time-skew"),
        help: "CMP: seconds a request's messageTime may be from the server's clock (default 600)."
    )
    var messageTimeSkewSeconds: Int?

    var body: EnrollmentCMPBody {
        EnrollmentCMPBody(
            implicitConfirm: !noImplicitConfirm,
            messageTimeSkewSeconds: messageTimeSkewSeconds,
            checkAfterSeconds: checkAfterSeconds,
            confirmWaitSeconds: confirmWaitSeconds
        )
    }
}
