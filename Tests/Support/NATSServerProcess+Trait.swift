import Foundation
import Testing

extension NATSServerProcess {
    /// Whether a `nats-server` executable is installed (on PATH, /usr/sbin or /usr/bin).
    public static var isInstalled: Bool { (try? executable()) != nil }

    /// Whether a missing `nats-server` fails the tests that need one instead of
    /// skipping them: `CLEVER_REQUIRE_NATS=1`, which `.ci/run` sets after installing it.
    public static var isRequired: Bool { ProcessInfo.processInfo.environment["CLEVER_REQUIRE_NATS"] == "1" }
}

extension Trait where Self == ConditionTrait {
    /// For a suite whose tests start real `nats-server` processes: where none is
    /// installed they are skipped, and the run's output says why and how to
    /// install one; under `CLEVER_REQUIRE_NATS=1` (as `.ci/run` runs) they run,
    /// and a missing server fails them.
    public static var needsNATSServer: Self {
        .enabled(
            if: NATSServerProcess.isInstalled || NATSServerProcess.isRequired,
            "needs nats-server, which is not installed: apt-get install -y nats-server (Debian), or put it on PATH; .ci/run installs it"
        )
    }
}
