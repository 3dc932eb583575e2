import APIModels
import CA
import Codecs
import Foundation
import MetadataStore

extension ACMEAccountView {
    init(_ record: ACMEAccountRecord) {
        self.init(
            id: record.id,
            profile: record.profile,
            status: record.status.rawValue,
            contacts: record.contacts,
            keyThumbprint: record.thumbprint,
            created: Date(nanoseconds: record.created),
            updated: Date(nanoseconds: record.updated)
        )
    }
}

extension ACMEOrderView {
    init(_ record: ACMEOrderRecord) {
        self.init(
            id: record.id,
            account: record.account,
            status: record.status.rawValue,
            identifiers: record.identifiers,
            expires: Date(nanoseconds: record.expires),
            serial: record.serial,
            error: record.error,
            created: Date(nanoseconds: record.created)
        )
    }
}

extension ACMEExternalKeyView {
    init(_ record: ACMEExternalKeyRecord, hmacKey: String? = nil) {
        self.init(
            id: record.id,
            profile: record.profile,
            label: record.label,
            created: Date(nanoseconds: record.created),
            account: record.account,
            hmacKey: hmacKey
        )
    }
}
