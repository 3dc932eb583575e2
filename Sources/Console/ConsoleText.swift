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
        "countedAt": (
            "Counted (again every 30 seconds while the dashboard is used) at",
            "Gezählt (erneut alle 30 Sekunden, solange die Übersicht genutzt wird) um"
        ),
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
        "reportsCSV": ("As CSV:", "Als CSV:"),
        "downloadCSV": ("Download all matches (CSV)", "Alle Treffer herunterladen (CSV)"),
        "metadataEdit": ("Set a metadata value", "Einen Metadatenwert setzen"),
        "metadataKey": ("Key", "Schlüssel"),
        "metadataValue": ("Value", "Wert"),
        "metadataValueHint": ("empty: remove the key", "leer: den Schlüssel entfernen"),
        "metadataDone": ("The metadata is saved.", "Die Metadaten sind gespeichert."),
        "save": ("Save", "Speichern"),
        "renewTitle": ("Renew this certificate", "Dieses Zertifikat erneuern"),
        "renewHint": (
            "Same subject and key under the policy in force; empty: the policy's validity.",
            "Gleicher Antragsteller und Schlüssel nach der geltenden Richtlinie; leer: die Gültigkeit der Richtlinie."
        ),
        "renew": ("Renew", "Erneuern"),
        "renewDone": ("Issued as the renewal of {serial}.", "Ausgestellt als Erneuerung von {serial}."),
        // Bulk revocation.
        "bulkRevoke": ("Revoke all matching…", "Alle Treffer widerrufen…"),
        "bulkRevokeTitle": ("Revoke all matching certificates", "Alle passenden Zertifikate widerrufen"),
        "bulkNeedsCA": (
            "Choose a CA and at least one condition besides it to revoke in bulk.",
            "Wählen Sie eine CA und mindestens eine weitere Bedingung für einen Sammelwiderruf."
        ),
        "bulkMatches": ("{count} valid certificates match.", "{count} gültige Zertifikate passen."),
        "bulkMore": ("… and {more} more.", "… und {more} weitere."),
        "bulkConfirm": ("Revoke these {count} certificates", "Diese {count} Zertifikate widerrufen"),
        "bulkDone": ("{count} certificates were revoked.", "{count} Zertifikate wurden widerrufen."),
        "backToSearch": ("Back to the search", "Zurück zur Suche"),
        // Creating CAs.
        "createCA": ("Create a CA", "CA anlegen"),
        "caIDHint": (
            "1 to 64 of a–z, 0–9 and -; it names the CA in URLs",
            "1 bis 64 Zeichen aus a–z, 0–9 und -; benennt die CA in URLs"
        ),
        "subjectHint": (
            "RFC 4514, most specific first: CN=Line CA,O=Acme,C=DE",
            "RFC 4514, Genauestes zuerst: CN=Line CA,O=Acme,C=DE"
        ),
        "algorithm": ("Key algorithm", "Schlüsselalgorithmus"),
        "noParent": ("none: a root CA", "keine: eine Wurzel-CA"),
        "validityDays": ("Validity in days", "Gültigkeit in Tagen"),
        "validityHint": (
            "empty: 20 years for a root, 10 for a sub-CA", "leer: 20 Jahre für eine Wurzel, 10 für eine Unter-CA"
        ),
        "caCreated": (
            "The CA is created; its key was made in the HSM.", "Die CA ist angelegt; ihr Schlüssel entstand im HSM."
        ),
        // The audit log.
        "audit": ("Audit log", "Audit-Protokoll"),
        "actionHint": (
            "exact, or its start ending in a dot (console.)", "genau, oder ihr Anfang mit Punkt am Ende (console.)"
        ),
        "auditText": ("Object or outcome contains", "Objekt oder Ergebnis enthält"),
        "verifyChain": ("Verify the hash chain", "Hash-Kette prüfen"),
        "chainIntact": ("The hash chain is intact. Entries checked:", "Die Hash-Kette ist intakt. Geprüfte Einträge:"),
        "chainBroken": ("The hash chain is broken at entry", "Die Hash-Kette ist unterbrochen bei Eintrag"),
        "olderEntries": ("Older entries", "Ältere Einträge"),
        "nothingFound": ("Nothing found.", "Nichts gefunden."),
        // The approvals queue.
        "requests": ("Approvals", "Freigaben"),
        "state.pending": ("pending", "offen"),
        "state.issued": ("issued", "ausgestellt"),
        "state.rejected": ("rejected", "abgelehnt"),
        "created": ("Received", "Eingegangen"),
        "profile": ("Profile", "Profil"),
        "protocol": ("Protocol", "Protokoll"),
        "client": ("Client", "Client"),
        "decision": ("Decision", "Entscheidung"),
        "approve": ("Approve", "Freigeben"),
        "reject": ("Reject", "Ablehnen"),
        "requestApproved": (
            "The request is approved and its certificate issued.",
            "Die Anfrage ist freigegeben und ihr Zertifikat ausgestellt."
        ),
        "requestRejected": ("The request is rejected.", "Die Anfrage ist abgelehnt."),
        "newRequest": ("Request a certificate for someone", "Ein Zertifikat für jemanden beantragen"),
        "newRequestIntro": (
            "Through a profile that offers the console. With manual approval another officer approves it.",
            "Über ein Profil, das die Konsole anbietet. Bei manueller Freigabe gibt ein anderer Beauftragter frei."
        ),
        "csrPasteHint": (
            "The PKCS#10 request the key's holder made (PEM).",
            "Die PKCS#10-Anfrage, die der Inhaber des Schlüssels erstellt hat (PEM)."
        ),
        "noConsoleProfiles": (
            "No profile offers the console; add console to a profile's protocols.",
            "Kein Profil bietet die Konsole an; ergänzen Sie console in den Protokollen eines Profils."
        ),
        "requestSubmitted": (
            "Your request waits for another officer's approval.",
            "Ihre Anfrage wartet auf die Freigabe durch einen anderen Beauftragten."
        ),
        "awaitingOtherOfficer": (
            "your request: another officer approves it", "Ihre Anfrage: ein anderer Beauftragter gibt frei"
        ),
        "awaitingUpstream": ("waiting for the upstream CA", "wartet auf die übergeordnete CA"),
        // The self-service portal.
        "portalTitle": ("Certificate self-service", "Zertifikats-Selbstbedienung"),
        "portalIntro": (
            "Sign in with the enrollment password you were given for a profile.",
            "Melden Sie sich mit dem Registrierungspasswort an, das Sie für ein Profil erhalten haben."
        ),
        "userName": ("User name", "Benutzername"),
        "userHint": (
            "Only with a profile's shared password; leave empty for a one-time password.",
            "Nur mit dem gemeinsamen Passwort eines Profils; bei einem Einmalpasswort leer lassen."
        ),
        "enrollmentPassword": ("Enrollment password", "Registrierungspasswort"),
        "portalSignInFailed": (
            "This profile and password do not match.", "Profil und Passwort passen nicht zusammen."
        ),
        "requestCertificate": ("Request a certificate", "Ein Zertifikat beantragen"),
        "portalNeedsApproval": (
            "An officer approves each request of this profile; come back to see the result.",
            "Ein Sicherheitsbeauftragter gibt jede Anfrage dieses Profils frei; sehen Sie später nach."
        ),
        "commonName": ("Name in the certificate (CN)", "Name im Zertifikat (CN)"),
        "commonNameHint": (
            "For a key made in this browser.", "Für einen in diesem Browser erzeugten Schlüssel."
        ),
        "needName": ("Enter the name first.", "Bitte zuerst den Namen eingeben."),
        "browserKey": ("Make a key in this browser", "Schlüssel in diesem Browser erzeugen"),
        "browserKeyDone": (
            "The key was made in this browser and the request below signed with it. Save the key now: it is not sent anywhere.",
            "Der Schlüssel wurde in diesem Browser erzeugt und die Anfrage unten damit signiert. Speichern Sie ihn jetzt: er wird nirgendwohin gesendet."
        ),
        "browserKeyFailed": ("The browser could not make a key:", "Der Browser konnte keinen Schlüssel erzeugen:"),
        "saveKey": ("Save the private key (PEM)", "Privaten Schlüssel speichern (PEM)"),
        "csr": ("Certificate request (PKCS#10, PEM)", "Zertifikatsanfrage (PKCS#10, PEM)"),
        "csrHint": (
            "Paste a request made elsewhere, or make one with the button above.",
            "Fügen Sie eine anderswo erstellte Anfrage ein oder erzeugen Sie eine mit der Schaltfläche oben."
        ),
        "csrNotPEM": (
            "This is not a PEM certificate request (-----BEGIN CERTIFICATE REQUEST-----).",
            "Das ist keine PEM-Zertifikatsanfrage (-----BEGIN CERTIFICATE REQUEST-----)."
        ),
        "sendRequest": ("Send the request", "Anfrage senden"),
        "yourCertificates": ("Your certificates", "Ihre Zertifikate"),
        "yourRequests": ("Your requests waiting or decided", "Ihre wartenden oder entschiedenen Anfragen"),
        "portalIssued": ("Your certificate {serial} is issued.", "Ihr Zertifikat {serial} ist ausgestellt."),
        "portalPending": (
            "Your request waits for an officer's approval.", "Ihre Anfrage wartet auf die Freigabe."
        ),
        // Administration: policies, profiles, keys, the vault, credentials.
        "yes": ("yes", "ja"),
        "no": ("no", "nein"),
        "active": ("active", "aktiv"),
        "archived": ("archived", "archiviert"),
        "show": ("Show", "Anzeigen"),
        "expertView": ("Expert view (the API's JSON)", "Expertenansicht (JSON der API)"),
        "description": ("Description", "Beschreibung"),
        "policies": ("Policies", "Richtlinien"),
        "allCAs": ("every CA (*)", "jede CA (*)"),
        "rules": ("Rules", "Regeln"),
        "policyOwn": ("This CA's own policy.", "Die eigene Richtlinie dieser CA."),
        "policyShared": (
            "The policy for every CA (this CA has none of its own).",
            "Die Richtlinie für jede CA (diese CA hat keine eigene)."
        ),
        "policyBuiltIn": (
            "The built-in policy of the category (none is stored).",
            "Die eingebaute Richtlinie der Kategorie (keine gespeichert)."
        ),
        "editPolicy": ("Change the policy", "Richtlinie ändern"),
        "policyJSON": ("Policy (JSON)", "Richtlinie (JSON)"),
        "policyHint": (
            "Saved for the CA and category chosen above; every field is required, as in PUT /v1/cas/{ca}/policies/{category}.",
            "Gespeichert für die oben gewählte CA und Kategorie; jedes Feld ist nötig, wie bei PUT /v1/cas/{ca}/policies/{category}."
        ),
        "policySaved": ("The policy is saved.", "Die Richtlinie ist gespeichert."),
        "rule.validityDays": ("Validity, default / longest (days)", "Gültigkeit, Vorgabe / längste (Tage)"),
        "rule.keyAlgorithms": ("Key algorithms", "Schlüsselalgorithmen"),
        "rule.requiredSubject": ("Subject attributes required", "Pflichtattribute des Antragstellers"),
        "rule.allowedSubject": ("Subject attributes allowed", "Erlaubte Attribute des Antragstellers"),
        "rule.sanTypes": ("Alternative names allowed", "Erlaubte alternative Namen"),
        "rule.requireSAN": ("An alternative name required", "Alternativer Name nötig"),
        "rule.commonNameInSAN": ("CN among the alternative names", "CN unter den alternativen Namen"),
        "rule.keyReuse": ("Renewal may reuse the key", "Erneuerung darf den Schlüssel weiterverwenden"),
        "rule.extendedKeyUsage": ("Extended key usage", "Erweiterte Schlüsselverwendung"),
        "rule.categoryDefault": ("the category's", "die der Kategorie"),
        "profiles": ("Enrollment profiles", "Registrierungsprofile"),
        "profilesIntro": (
            "How devices and people enroll: protocol, CA, authentication and approval.",
            "Wie Geräte und Personen sich registrieren: Protokoll, CA, Anmeldung und Freigabe."
        ),
        "protocols": ("Protocols", "Protokolle"),
        "approvalMode": ("Approval", "Freigabe"),
        "subjectTemplate": ("Subject template", "Vorlage des Antragstellers"),
        "endpoints": ("Endpoints", "Endpunkte"),
        "keys": ("Keys", "Schlüssel"),
        "key": ("Key", "Schlüssel"),
        "keyName": ("Name", "Name"),
        "keyID": ("HSM object ID", "HSM-Objekt-ID"),
        "hasCertificate": ("Certificate", "Zertifikat"),
        "signingCredentials": ("Signer credentials that may use it", "Signier-Zugänge, die ihn nutzen dürfen"),
        "vault": ("Vault", "Tresor"),
        "namespace": ("Namespace", "Namensraum"),
        "kekVersion": ("KEK version", "KEK-Version"),
        "keepVersions": ("Versions kept", "Behaltene Versionen"),
        "secretPath": ("Secret", "Geheimnis"),
        "version": ("Version", "Version"),
        "size": ("Bytes", "Bytes"),
        "value": ("Value", "Wert"),
        "reveal": ("Reveal", "Anzeigen"),
        "valueOfVersion": ("Value of version", "Wert der Version"),
        "binaryValue": ("Not text; base64:", "Kein Text; Base64:"),
        "revealAudited": (
            "This reading is in the audit log. Leave the page when you are done.",
            "Dieses Lesen steht im Audit-Protokoll. Verlassen Sie die Seite, wenn Sie fertig sind."
        ),
        "backToNamespace": ("Back to the namespace", "Zurück zum Namensraum"),
        "credentials": ("Credentials", "Zugänge"),
        "scope": ("Keys or namespaces", "Schlüssel oder Namensräume"),
        "scopeHint": (
            "Comma-separated names or prefixes ending in *: keys for signers, namespaces for vault clients.",
            "Durch Kommas getrennte Namen oder Präfixe mit * am Ende: Schlüssel für Signierer, Namensräume für Tresor-Clients."
        ),
        "createCredential": ("Create a credential", "Zugang anlegen"),
        "credentialCreated": (
            "The credential is created. Its token is shown this once; hand it over now:",
            "Der Zugang ist angelegt. Sein Token wird nur dieses eine Mal gezeigt; geben Sie es jetzt weiter:"
        ),
        "credentialRevoked": ("The credential is revoked.", "Der Zugang ist widerrufen."),
        "portalRenewing": (
            "This request renews your certificate", "Diese Anfrage erneuert Ihr Zertifikat"
        ),
        "portalRevoked": ("Your certificate {serial} is revoked.", "Ihr Zertifikat {serial} ist widerrufen."),
        "certificateOffer": (
            "Your browser presented a certificate that signs in to Custos:",
            "Ihr Browser hat ein Zertifikat vorgelegt, das bei Custos anmeldet:"
        ),
        "signInWithCertificate": ("Sign in with this certificate", "Mit diesem Zertifikat anmelden"),
        "noClientCertificate": (
            "This connection presented no client certificate (it needs HTTPS and a certificate in the browser).",
            "Diese Verbindung hat kein Client-Zertifikat vorgelegt (nötig sind HTTPS und ein Zertifikat im Browser)."
        ),
        "certificateSignInFailed": (
            "This certificate is not bound to a live credential, or it is not valid now.",
            "Dieses Zertifikat gehört zu keinem gültigen Zugang, oder es ist derzeit nicht gültig."
        ),
        "clientCertificates": ("Client certificates (SHA-256)", "Client-Zertifikate (SHA-256)"),
        "unbind": ("Unbind", "Lösen"),
        "bindCertificate": ("Bind a client certificate", "Ein Client-Zertifikat binden"),
        "certificatePEMField": ("Certificate (PEM)", "Zertifikat (PEM)"),
        "bindHint": (
            "A smartcard's certificate: whoever presents it over TLS (proving its key) signs in as the credential.",
            "Das Zertifikat einer Smartcard: wer es über TLS vorlegt (und den Schlüssel beweist), meldet sich als dieser Zugang an."
        ),
        "certificateBound": ("The certificate is bound.", "Das Zertifikat ist gebunden."),
        "certificateUnbound": ("The certificate is unbound.", "Das Zertifikat ist gelöst."),
        // Errors.
        "errorTitle": ("This did not work", "Das hat nicht geklappt"),
        "forbiddenTitle": ("Not allowed", "Nicht erlaubt"),
        "backToDashboard": ("Back to the dashboard", "Zurück zur Übersicht"),
    ]
}
