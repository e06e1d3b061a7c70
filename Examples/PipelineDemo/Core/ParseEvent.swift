import AsyncWorker
import Foundation

/// Domain 1: turns an NDJSON line into an ``Event``, or throws a ``ParseError`` naming the line and
/// what is wrong with it. A bad line fails only its own message.
public struct ParseEvent: AsyncDomain {
    public init() {}

    /// The monitor's name for this domain.
    public var name: String { "parse" }

    /// Parses one line.
    public func execute(_ line: InputLine) async throws -> Event {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.text.utf8)),
            let fields = object as? [String: Any]
        else {
            throw ParseError(line: line.number, reason: .malformedJSON)
        }
        func field<T>(_ key: String, as type: T.Type) throws -> T {
            guard let value = fields[key], !(value is NSNull) else {
                throw ParseError(line: line.number, reason: .missingField(key))
            }
            guard let typed = value as? T else {
                throw ParseError(line: line.number, reason: .invalidValue(field: key))
            }
            return typed
        }
        let id = try field("id", as: Int.self)
        let timestamp = try field("ts", as: String.self)
        let user = try field("user", as: String.self)
        guard let kind = Event.Kind(rawValue: try field("type", as: String.self)) else {
            throw ParseError(line: line.number, reason: .invalidValue(field: "type"))
        }
        let sku = fields["sku"] as? String
        let amount = fields["amount_cents"] == nil ? 0 : try field("amount_cents", as: Int.self)
        guard amount >= 0 else {
            throw ParseError(line: line.number, reason: .invalidValue(field: "amount_cents"))
        }
        return Event(
            id: id,
            timestamp: timestamp,
            user: user,
            kind: kind,
            sku: sku,
            amountCents: amount,
            line: line.number
        )
    }
}
