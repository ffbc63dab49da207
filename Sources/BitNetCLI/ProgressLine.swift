import BitNet
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one progress display of the CLI: a bar on standard error for model
/// loading, prompt evaluation and perplexity.
///
/// Drawn only when standard error is a terminal (redirected output never
/// gets carriage returns and escape codes), and only once the work has
/// lasted `delay`, so quick jobs do not flicker. Callers report through
/// `update`; a ticker thread also redraws every 50 ms, because some steps
/// report rarely (a model load calls back per layer, then not at all while it
/// requantizes the LM head) and the bar must still appear after `delay`.
/// `finish` erases the line so what follows starts on a clean one.
/// $BITNET_PROGRESS_DELAY_MS replaces the default delay of 500 ms (tests
/// set 0 to see the bar on quick jobs).
final class ProgressLine: Sendable {
    private struct State {
        var fraction = 0.0
        var detail = ""
        var drawn = false
        var lastDraw: ContinuousClock.Instant?
        var finished = false
    }

    private let label: String
    private let delay: Duration
    private let start = ContinuousClock.now
    private let state = Locked(State())
    let isEnabled: Bool

    static let defaultDelay: Duration = {
        guard let text = getenv("BITNET_PROGRESS_DELAY_MS"), let ms = Int(String(cString: text)), ms >= 0 else {
            return .milliseconds(500)
        }
        return .milliseconds(ms)
    }()

    init(_ label: String, delay: Duration = ProgressLine.defaultDelay) {
        self.label = label
        self.delay = delay
        isEnabled = isatty(2) == 1
        if isEnabled { startTicker() }
    }

    /// Records the progress (0...1) and a short detail ("120/800 tokens").
    func update(fraction: Double, detail: String = "") {
        guard isEnabled else { return }
        state.withLock { state in
            state.fraction = min(max(fraction, 0), 1)
            state.detail = detail
            drawIfDue(&state)
        }
    }

    /// Stops drawing and erases the line if anything was drawn. Idempotent.
    func finish() {
        guard isEnabled else { return }
        state.withLock { state in
            if state.drawn && !state.finished { writeErr("\r\u{1B}[K") }
            state.finished = true
        }
    }

    private func drawIfDue(_ state: inout State) {
        guard !state.finished else { return }
        let now = ContinuousClock.now
        guard now - start >= delay else { return }
        // At most ~10 redraws a second; the final 100% always shows.
        if let last = state.lastDraw, now - last < .milliseconds(100), state.fraction < 1 { return }
        state.lastDraw = now
        state.drawn = true
        let width = 24
        let filled = Int((state.fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
        let percent = Int((state.fraction * 100).rounded(.down))
        let seconds = Double(Int((now - start).secondsDouble * 10)) / 10
        let detail = state.detail.isEmpty ? "" : " " + state.detail
        writeErr("\r\(label) [\(bar)] \(percent)%\(detail) \(seconds) s\u{1B}[K")
    }

    /// A detached thread redrawing until `finish`; it holds its own reference.
    /// Without a thread, updates still draw (only the ticking seconds stop).
    private func startTicker() {
        _ = startDetachedThread { [self] in
            while true {
                usleep(50_000)
                let done = state.withLock { state in
                    drawIfDue(&state)
                    return state.finished
                }
                if done { return }
            }
        }
    }
}

/// A label short enough for one terminal line: the file name, at most 32 characters.
func shortFileName(_ path: String) -> String {
    let name = path.split(separator: "/").last.map(String.init) ?? path
    return name.count <= 32 ? name : String(name.prefix(29)) + "..."
}
