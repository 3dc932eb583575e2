import ArgumentParser

/// The `custos` command.
@main
struct Custos: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "custos",
        abstract: "Trust management with keys that never leave the HSM.",
        subcommands: [
            ServeCommand.self, HSMCommand.self, StoreCommand.self, AuditCommand.self, CredentialCommand.self,
            TLSCommand.self, CACommand.self, CertificateCommand.self, ReportCommand.self, OCSPCommand.self,
            VaultCommand.self, CeremonyCommand.self, EnrollmentCommand.self, NotifyCommand.self, ActionCommand.self,
        ]
    )
}
