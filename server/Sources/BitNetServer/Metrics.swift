import Synchronization

/// The counters `/metrics` exposes, in Prometheus' text format (written here:
/// five series do not need a metrics framework).
final class Metrics: Sendable {
    /// Upper bounds of the time-to-first-token histogram, in seconds.
    static let bucketBounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    private struct State {
        var requests: [String: Int] = [:]  // "endpoint\u{0}status" → count
        var generatedTokens = 0
        var queueDepth = 0
        var activeSequences = 0
        var cancelled = 0
        var bucketCounts = [Int](repeating: 0, count: Metrics.bucketBounds.count)
        var ttftCount = 0
        var ttftSum = 0.0
    }
    private let state = Mutex(State())
    let slots: Int

    init(slots: Int) { self.slots = slots }

    func request(endpoint: String, status: Int) {
        state.withLock { $0.requests["\(endpoint)\u{0}\(status)", default: 0] += 1 }
    }
    func generated(_ tokens: Int) { state.withLock { $0.generatedTokens += tokens } }
    func queueDepth(_ depth: Int) { state.withLock { $0.queueDepth = depth } }
    func sequenceStarted() { state.withLock { $0.activeSequences += 1 } }
    func sequenceEnded(cancelled: Bool) {
        state.withLock {
            $0.activeSequences -= 1
            if cancelled { $0.cancelled += 1 }
        }
    }
    func timeToFirstToken(_ seconds: Double) {
        state.withLock { s in
            for (index, bound) in Metrics.bucketBounds.enumerated() where seconds <= bound { s.bucketCounts[index] += 1 }
            s.ttftCount += 1
            s.ttftSum += seconds
        }
    }
    var activeSequences: Int { state.withLock { $0.activeSequences } }

    /// Text exposition format 0.0.4.
    func exposition() -> String {
        let s = state.withLock { $0 }
        var out = ""
        out += "# HELP bitnet_requests_total HTTP requests answered, by endpoint and status.\n"
        out += "# TYPE bitnet_requests_total counter\n"
        for (key, count) in s.requests.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "\u{0}", omittingEmptySubsequences: false)
            out += "bitnet_requests_total{endpoint=\"\(parts[0])\",status=\"\(parts[1])\"} \(count)\n"
        }
        out += "# HELP bitnet_generated_tokens_total Tokens generated for all requests.\n"
        out += "# TYPE bitnet_generated_tokens_total counter\n"
        out += "bitnet_generated_tokens_total \(s.generatedTokens)\n"
        out += "# HELP bitnet_queue_depth Requests waiting for a generation slot.\n"
        out += "# TYPE bitnet_queue_depth gauge\n"
        out += "bitnet_queue_depth \(s.queueDepth)\n"
        out += "# HELP bitnet_batch_size Sequences being generated now (at most --parallel).\n"
        out += "# TYPE bitnet_batch_size gauge\n"
        out += "bitnet_batch_size \(s.activeSequences)\n"
        out += "# HELP bitnet_slots Generation slots (--parallel).\n"
        out += "# TYPE bitnet_slots gauge\n"
        out += "bitnet_slots \(slots)\n"
        out += "# HELP bitnet_cancelled_total Generations cancelled (client gone or shutdown).\n"
        out += "# TYPE bitnet_cancelled_total counter\n"
        out += "bitnet_cancelled_total \(s.cancelled)\n"
        out += "# HELP bitnet_time_to_first_token_seconds From request arrival to the first generated token.\n"
        out += "# TYPE bitnet_time_to_first_token_seconds histogram\n"
        for (index, bound) in Metrics.bucketBounds.enumerated() {
            out += "bitnet_time_to_first_token_seconds_bucket{le=\"\(bound)\"} \(s.bucketCounts[index])\n"
        }
        out += "bitnet_time_to_first_token_seconds_bucket{le=\"+Inf\"} \(s.ttftCount)\n"
        out += "bitnet_time_to_first_token_seconds_sum \(s.ttftSum)\n"
        out += "bitnet_time_to_first_token_seconds_count \(s.ttftCount)\n"
        return out
    }
}
