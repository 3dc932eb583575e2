/// Every word the console shows, in each language. Templates name them as `{{t.key}}`; a key missing
/// here renders as nothing, which `ConsoleTextTests` rules out by checking every key a template uses.
public enum ConsoleText {
    /// The words of `language`, by key.
    public static func words(_ language: ConsoleLanguage) -> [String: String] {
        switch language {
        case .en: english
        case .de: german
        }
    }

    /// The keys both languages define.
    public static var keys: Set<String> { Set(table.keys) }

    private static let english = table.mapValues(\.en)
    private static let german = table.mapValues(\.de)

    private static let table: [String: (en: String, de: String)] = [
        // Layout and navigation.
        "skip": ("Skip to content", "Zum Inhalt springen"),
        "navigation": ("Main navigation", "Hauptnavigation"),
        "dashboard": ("Dashboard", "Übersicht"),
        "cas": ("Certificate authorities", "Zertifizierungsstellen"),
        "certificates": ("Certificates", "Zertifikate"),
        "signOut": ("Sign out", "Abmelden"),
        "signedInAs": ("Signed in as", "Angemeldet als"),
        "otherLanguage": ("Deutsch", "English"),
        "role": ("Role", "Rolle"),
        // Sign-in.
        "signInTitle": ("Sign in to Custos", "Bei Custos anmelden"),
        "tokenLabel": ("Credential token", "Zugangstoken"),
        "tokenHint": (
            "The token of an API credential (cst_…), as custos credential create printed it.",
            "Das Token eines API-Zugangs (cst_…), wie custos credential create es ausgab."
        ),
        "signIn": ("Sign in", "Anmelden"),
        "signInFailed": (
            "This token is unknown or revoked.", "Dieses Token ist unbekannt oder widerrufen."
        ),
        "sessionExpired": (
            "Your session has ended. Please sign in again.",
            "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an."
        ),
        "signedOut": ("You are signed out.", "Sie sind abgemeldet."),
        // Dashboard.
        "countsTitle": ("Certificates by CA, category and status", "Zertifikate nach CA, Kategorie und Status"),
        "ca": ("CA", "CA"),
        "category": ("Category", "Kategorie"),
        "status": ("Status", "Status"),
        "count": ("Count", "Anzahl"),
        "valid": ("valid", "gültig"),
        "revoked": ("revoked", "widerrufen"),
        "expired": ("expired", "abgelaufen"),
        "expiringTitle": ("Valid certificates expiring", "Gültige Zertifikate, die ablaufen"),
        "withinDays": ("within {days} days", "innerhalb von {days} Tagen"),
        "crlTitle": ("CRLs", "Sperrlisten"),
        "crlNumber": ("CRL number", "Sperrlistennummer"),
        "nextUpdate": ("Next update", "Nächste Aktualisierung"),
        "noCRL": ("none issued yet", "noch keine ausgestellt"),
        "overdue": ("overdue", "überfällig"),
        "hsmTitle": ("HSM session pool", "HSM-Sitzungspool"),
        "token": ("Token", "Token"),
        "sessionsOpen": ("Sessions open", "Offene Sitzungen"),
        "inUse": ("In use", "In Benutzung"),
        "waiters": ("Waiting callers", "Wartende Aufrufer"),
        "failures": ("Failed operations", "Fehlgeschlagene Operationen"),
        "auditTitle": ("Recent audit events", "Letzte Audit-Ereignisse"),
        "time": ("Time", "Zeit"),
        "actor": ("Actor", "Akteur"),
        "action": ("Action", "Aktion"),
        "object": ("Object", "Objekt"),
        "outcome": ("Outcome", "Ergebnis"),
        "nothingYet": ("Nothing yet.", "Noch nichts."),
        // CAs.
        "caID": ("Name", "Name"),
        "subject": ("Subject", "Antragsteller"),
        "kind": ("Kind", "Art"),
        "state": ("State", "Zustand"),
        "parent": ("Issued by", "Ausgestellt von"),
        "tenant": ("Tenant", "Mandant"),
        "notBefore": ("Valid from", "Gültig ab"),
        "notAfter": ("Valid until", "Gültig bis"),
        "downloads": ("Downloads", "Downloads"),
        "certificatePEM": ("Certificate (PEM)", "Zertifikat (PEM)"),
        "certificateDER": ("Certificate (DER)", "Zertifikat (DER)"),
        "chainPEM": ("Chain (PEM)", "Kette (PEM)"),
        "crlDER": ("CRL (DER)", "Sperrliste (DER)"),
        "noCertificateYet": ("This CA has no certificate yet.", "Diese CA hat noch kein Zertifikat."),
        "issuedCertificates": ("Certificates of this CA", "Zertifikate dieser CA"),
        // Certificates.
        "search": ("Search", "Suchen"),
        "serial": ("Serial number (hex)", "Seriennummer (hex)"),
        "text": ("Subject or name contains", "Antragsteller oder Name enthält"),
        "metadata": ("Metadata", "Metadaten"),
        "metadataHint": ("key=value, one per line", "Schlüssel=Wert, einer pro Zeile"),
        "expiresAfter": ("Expires after (YYYY-MM-DD)", "Läuft ab nach (JJJJ-MM-TT)"),
        "expiresBefore": ("Expires before (YYYY-MM-DD)", "Läuft ab vor (JJJJ-MM-TT)"),
        "any": ("any", "alle"),
        "nextPage": ("Next page", "Nächste Seite"),
        "noResults": ("No certificate matches.", "Kein Zertifikat passt."),
        "results": ("Results", "Ergebnisse"),
        "revokeTitle": ("Revoke this certificate", "Dieses Zertifikat widerrufen"),
        "reason": ("Reason", "Grund"),
        "revoke": ("Revoke", "Widerrufen"),
        "revokedAt": ("Revoked at", "Widerrufen am"),
        "revokeDone": ("The certificate is revoked.", "Das Zertifikat ist widerrufen."),
        "download": ("Download (PEM)", "Herunterladen (PEM)"),
        // Errors.
        "errorTitle": ("This did not work", "Das hat nicht geklappt"),
        "forbiddenTitle": ("Not allowed", "Nicht erlaubt"),
        "backToDashboard": ("Back to the dashboard", "Zurück zur Übersicht"),
    ]
}
