import Foundation

/// What publishing a CRL made: the full CRL and the delta that goes with it.
struct CRLView: Encodable {
    var ca: String
    var number: UInt64
    var thisUpdate: Date
    var nextUpdate: Date
    var entries: Int
    var delta: CRLView.Delta?

    struct Delta: Encodable {
        var number: UInt64
        var entries: Int
        var nextUpdate: Date
    }
}
