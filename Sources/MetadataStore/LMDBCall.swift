internal import CLMDB
import Glibc

/// The one checking function for LMDB calls: a non-zero return becomes a `StoreError` that names the
/// function and LMDB's own message, with the codes operators act on mapped to their own `Code`.
@inline(__always)
func lmdb(_ function: StaticString, _ rc: Int32) throws(StoreError) {
    guard rc != 0 else { return }
    throw storeError(function, rc)
}

func storeError(_ function: StaticString, _ rc: Int32) -> StoreError {
    let message = String(cString: mdb_strerror(rc))
    let code: StoreError.Code =
        switch rc {
        case MDB_MAP_FULL: .mapFull
        case MDB_INVALID, MDB_VERSION_MISMATCH, MDB_CORRUPTED, MDB_PAGE_NOTFOUND: .corrupt
        case EACCES, EROFS, ENOENT, ENOSPC: .unavailable
        default: .lmdb
        }
    return StoreError(code: code, lmdbCode: rc, function: "\(function)", reason: "\(function): \(message)")
}
